import { ProtocolError } from '../errors/protocol-error.ts';
import { MAX_KEY_LENGTH, splitQuery, validSegment } from '../names/stream-key.ts';

export interface StreamName {
  app: string;
  name: string;
  key: string;
  query: Record<string, string>;
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
  const key = `${app}/${name}`;
  // Valid segments can still add up to a key the registry and event schemas refuse.
  if (key.length > MAX_KEY_LENGTH) {
    throw new ProtocolError('RTMP_BAD_STREAM_NAME', `stream key longer than ${MAX_KEY_LENGTH} characters`);
  }
  return { app, name, key, query: { ...a.query, ...n.query } };
}
