import { timingSafeEqual } from 'node:crypto';
import { RELAY_CREDENTIAL_PROP } from './cluster-config.ts';
import type { PlayDecision, PlayRequest } from './hooks.ts';

/**
 * Origins tell relay pulls from viewers by the credential in the RTMP connect object: absent,
 * it is a viewer; present, it must match the shared secret, else the pull is refused.
 */
export function relayPlayGate(secret: string): (req: PlayRequest) => PlayDecision {
  const want = Buffer.from(secret);
  return (req) => {
    const cred = req.connectProps[RELAY_CREDENTIAL_PROP];
    if (cred === undefined) return { ok: true, kind: 'player' };
    const got = Buffer.from(typeof cred === 'string' ? cred : '');
    if (got.length === want.length && timingSafeEqual(got, want)) return { ok: true, kind: 'relay' };
    return { ok: false, description: 'relay credential rejected' };
  };
}
