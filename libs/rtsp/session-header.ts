import { randomBytes } from 'node:crypto';
import { RtspErrorCode, quoteForError, rtspError } from './errors.ts';
import { splitParam } from './split.ts';

/**
 * Session header (RFC 2326 §12.37): `id[;timeout=seconds]`. The id is 1*(ALPHA / DIGIT / safe)
 * (§3.4); we also accept the few other visible characters cameras use, but never white space,
 * ';' or ','. At most 256 characters. ProtocolError 'RTSP_BAD_SESSION' otherwise; a malformed
 * timeout is ignored (the client falls back to its default keep-alive interval).
 */
export function parseSessionHeader(value: string): { id: string; timeoutS?: number } {
  const [rawId = '', ...params] = value.split(';');
  const id = rawId.trim();
  if (!/^[\x21-\x2b\x2d-\x3a\x3c-\x7e]{1,256}$/.test(id)) {
    throw rtspError(RtspErrorCode.BadSession, `bad Session ${quoteForError(value)}`);
  }
  for (const p of params) {
    const { key, value: v } = splitParam(p);
    if (key === 'timeout' && v !== null && /^\d{1,6}$/.test(v.trim())) {
      const timeoutS = Number(v.trim());
      if (timeoutS > 0) return { id, timeoutS };
    }
  }
  return { id };
}

export function formatSessionHeader(id: string, timeoutS: number): string {
  return `${id};timeout=${Math.max(1, Math.round(timeoutS))}`;
}

/** 64 random bits as 16 hex digits: unguessable, never sequential (§12.37 "chosen randomly"). */
export function newSessionId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}
