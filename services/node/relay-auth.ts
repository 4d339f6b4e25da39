import { timingSafeEqual } from 'node:crypto';
import { RELAY_CREDENTIAL_PROP, RELAY_EPOCH_PROP } from './cluster-config.ts';
import type { PlayDecision, PlayRequest } from './hooks.ts';

/** Whether this origin may serve a relay pull of `key` resolved at `epoch` (Ownership.servesRelay). */
export type RelayEpochCheck = (key: string, epoch: number) => { ok: true } | { ok: false; why: string };

/**
 * Origins tell relay pulls from viewers by the credential in the RTMP connect object: absent,
 * it is a viewer; present, it must match the shared secret, else the pull is refused. A relay
 * pull also names the ownership epoch the edge resolved, and is served only while this
 * process holds exactly that claim (DESIGN "Fencing").
 */
export function relayPlayGate(secret: string, epochs: RelayEpochCheck): (req: PlayRequest) => PlayDecision {
  const want = Buffer.from(secret);
  return (req) => {
    const cred = req.connectProps[RELAY_CREDENTIAL_PROP];
    if (cred === undefined) return { ok: true, kind: 'player' };
    const got = Buffer.from(typeof cred === 'string' ? cred : '');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return { ok: false, description: 'relay credential rejected' };
    }
    const epoch = req.connectProps[RELAY_EPOCH_PROP];
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch <= 0) {
      return { ok: false, description: 'relay pull without an ownership epoch' };
    }
    const held = epochs(req.key, epoch);
    return held.ok ? { ok: true, kind: 'relay' } : { ok: false, description: `relay refused: ${held.why}` };
  };
}
