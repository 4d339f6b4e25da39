import { ProtocolError } from '../errors/protocol-error.ts';

/**
 * App and stream names become keys, log fields, and later file and URL paths, so they are
 * restricted to a safe alphabet: letters, digits and `_ . - ~`; app may have `/` segments.
 * No empty, `.` or `..` segments (path traversal), at most 128 bytes each.
 */
const SEGMENT = /^[A-Za-z0-9_.~-]{1,128}$/;

export interface StreamName {
  app: string;
  name: string;
  key: string;
  query: Record<string, string>;
}

export function validSegment(s: string): boolean {
  return SEGMENT.test(s) && s !== '.' && s !== '..';
}

export function splitQuery(s: string): { path: string; query: Record<string, string> } {
  const q = s.indexOf('?');
  if (q < 0) return { path: s, query: {} };
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(s.slice(q + 1))) {
    if (k !== '__proto__') query[k] = v;
  }
  return { path: s.slice(0, q), query };
}

/** Builds the stream key from the connect `app` and the publish/play name, both possibly with queries. */
export function parseStreamName(appWithQuery: string, nameWithQuery: string): StreamName {
  const a = splitQuery(appWithQuery);
  const n = splitQuery(nameWithQuery);
  const app = a.path.replace(/^\/+|\/+$/g, '');
  const name = n.path;
  if (!app.split('/').every(validSegment)) {
    throw new ProtocolError('RTMP_BAD_APP', 'invalid app name');
  }
  if (!validSegment(name)) {
    throw new ProtocolError('RTMP_BAD_STREAM_NAME', 'invalid stream name');
  }
  return { app, name, key: `${app}/${name}`, query: { ...a.query, ...n.query } };
}
