import type { AuthAction } from './signed-url.ts';

/**
 * Which sessions a check applies to. A scope names actions and protocols; a protocol is a
 * group or one session label:
 *   rtmp = rtmp, rtmps   rtsp = rtsp, rtsps   hls = hls (HTTP and HTTPS)
 *   flv  = http-flv, https-flv, ws-flv, wss-flv
 *   ts   = http-ts, https-ts, ws-ts, wss-ts
 * An empty protocol list is every protocol.
 */
export const PROTOCOL_GROUPS = {
  rtmp: ['rtmp', 'rtmps'],
  rtsp: ['rtsp', 'rtsps'],
  flv: ['http-flv', 'https-flv', 'ws-flv', 'wss-flv'],
  ts: ['http-ts', 'https-ts', 'ws-ts', 'wss-ts'],
  hls: ['hls'],
} as const;

/** Every name a scope may use: the groups and the session labels. */
export const SCOPE_PROTOCOLS: readonly string[] = [
  ...new Set([...Object.keys(PROTOCOL_GROUPS), ...Object.values(PROTOCOL_GROUPS).flat()]),
];

export interface Scope {
  actions: readonly AuthAction[];
  protocols: readonly string[];
}

/** The session labels a scope's protocol list stands for (null: all). */
export function expandProtocols(protocols: readonly string[]): Set<string> | null {
  if (protocols.length === 0) return null;
  const out = new Set<string>();
  for (const p of protocols) {
    const group = (PROTOCOL_GROUPS as Record<string, readonly string[]>)[p];
    for (const l of group ?? [p]) out.add(l);
  }
  return out;
}

export function inScope(scope: Scope, action: AuthAction, protocol: string): boolean {
  if (!scope.actions.includes(action)) return false;
  const labels = expandProtocols(scope.protocols);
  return labels === null || labels.has(protocol);
}
