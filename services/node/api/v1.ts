import { readFileSync } from 'node:fs';
import type { RelayPullControl, RelayPushControl } from '../control-types.ts';
import { readJsonBody, sendError, sendJson } from './http.ts';
import type { NodeApiContext } from './node-context.ts';
import { relayPullFromV1, statusOfControl } from './relay-map.ts';
import type { RequestContext, Route } from './router.ts';
import type { SessionStat } from './sessions.ts';
import { isStreamKey } from '../../../libs/names/stream-key.ts';

/** The OpenAPI document, read once (it sits beside this file, in the source and in dist). */
let openapiText: string | null = null;
export function openapiDocument(): string {
  openapiText ??= readFileSync(new URL('./openapi.json', import.meta.url), 'utf8');
  return openapiText;
}

/** A session in /api/v1's shape. */
export function v1Session(s: SessionStat): Record<string, unknown> {
  return {
    id: s.info.sessionId,
    kind: s.info.kind,
    protocol: s.info.protocol,
    key: s.info.key,
    remote: s.info.remote,
    startedAt: s.startedAt,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    readKbps: s.readKbps,
    writeKbps: s.writeKbps,
  };
}

const notAvailable = (c: RequestContext, what: string): void =>
  sendError(c.res, 501, 'not_available', `${what} are not available on this node`);

type Control = RelayPullControl | RelayPushControl;

async function controlled(
  c: RequestContext,
  ctl: Control | null,
  what: string,
  run: (ctl: Control) => Promise<unknown>,
): Promise<void> {
  if (!ctl) return notAvailable(c, what);
  const r = (await run(ctl)) as Awaited<ReturnType<Control['stop']>>;
  if (!r.ok) return sendError(c.res, statusOfControl(r), r.code, r.message);
  sendJson(c.res, 200, { relay: r.value });
}

/** /api/v1 on a media node: streams, sessions and kicks, relay pulls and pushes, the OpenAPI document. */
export function v1Routes(x: NodeApiContext): Route[] {
  const pulls = (): RelayPullControl | null => x.relayPulls?.() ?? null;
  const pushes = (): RelayPushControl | null => x.relayPushes?.() ?? null;
  return [
    {
      path: '/api/v1/openapi.json',
      style: 'v1',
      methods: {
        GET: {
          access: 'open',
          handle: (c) =>
            void c.res.writeHead(200, { 'Content-Type': 'application/json' }).end(openapiDocument()),
        },
      },
    },
    {
      path: '/api/v1/streams/{key}',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const key = c.params.key!;
            if (!isStreamKey(key)) {
              // Not echoed: a refused path is the client's, not ours to reflect.
              x.counters.inc('api_not_found');
              return sendError(c.res, 404, 'not_found', 'no such stream (invalid key)');
            }
            const s = x.hub.list().find((st) => st.key === key);
            const stream = x.hub.get(key);
            if (!s || !stream) return sendError(c.res, 404, 'not_found', `no stream ${key} on this node`);
            const sessions = x.table
              .list()
              .filter((t) => t.info.key === key)
              .map(v1Session);
            sendJson(c.res, 200, { stream: { ...s, media: x.table.mediaOf(stream), sessions } });
          },
        },
      },
    },
    {
      path: '/api/v1/sessions',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => sendJson(c.res, 200, { sessions: x.table.list().map(v1Session) }),
        },
      },
    },
    {
      path: '/api/v1/sessions/{id}',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const s = x.table.list().find((t) => t.info.sessionId === c.params.id);
            if (!s) return sendError(c.res, 404, 'not_found', 'no such session');
            sendJson(c.res, 200, { session: v1Session(s) });
          },
        },
        DELETE: {
          access: 'control',
          handle: (c) => {
            const id = c.params.id!;
            if (!x.kick(id, 'kicked by the api'))
              return sendError(c.res, 404, 'not_found', 'no such session');
            x.counters.inc('api_kicks');
            x.log.info({ session: id }, 'api: session kicked');
            sendJson(c.res, 200, { kicked: id });
          },
        },
      },
    },
    {
      path: '/api/v1/relays/pulls',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const ctl = pulls();
            if (!ctl) return notAvailable(c, 'relay pulls');
            sendJson(c.res, 200, { relays: ctl.list() });
          },
        },
        POST: {
          access: 'control',
          handle: async (c) => {
            const body = await readJsonBody(c.req);
            const mapped = relayPullFromV1(body);
            if (!mapped.ok) return sendError(c.res, 400, 'invalid', mapped.message);
            await controlled(c, pulls(), 'relay pulls', (ctl) => (ctl as RelayPullControl).start(mapped.req));
          },
        },
      },
    },
    {
      path: '/api/v1/relays/pulls/{key}',
      style: 'v1',
      methods: {
        DELETE: {
          access: 'control',
          handle: (c) => controlled(c, pulls(), 'relay pulls', (ctl) => ctl.stop(c.params.key!)),
        },
      },
    },
    {
      path: '/api/v1/relays/pushes',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const ctl = pushes();
            if (!ctl) return notAvailable(c, 'relay pushes');
            sendJson(c.res, 200, { relays: ctl.list() });
          },
        },
        POST: {
          access: 'control',
          handle: async (c) => {
            const body = await readJsonBody(c.req);
            const { key, url } = body;
            if (typeof key !== 'string' || !isStreamKey(key))
              return sendError(c.res, 400, 'invalid', 'key (app/name) is required');
            if (typeof url !== 'string' || !/^rtmps?:\/\//i.test(url))
              return sendError(c.res, 400, 'invalid', 'url must be rtmp:// or rtmps://');
            await controlled(c, pushes(), 'relay pushes', (ctl) =>
              (ctl as RelayPushControl).start({ key, url }),
            );
          },
        },
      },
    },
    {
      path: '/api/v1/relays/pushes/{id}',
      style: 'v1',
      methods: {
        DELETE: {
          access: 'control',
          handle: (c) => controlled(c, pushes(), 'relay pushes', (ctl) => ctl.stop(c.params.id!)),
        },
      },
    },
  ];
}
