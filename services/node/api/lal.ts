import { sendJson, readJsonBody } from './http.ts';
import { LalCode, LalDesp, lalErr, lalInfo, lalOk, resolveKey } from './lal-shape.ts';

export { lalInfo };
import { lalGroupOf } from './node-groups.ts';
import type { NodeApiContext } from './node-context.ts';
import { relayPullFromLal } from './relay-map.ts';
import type { RequestContext, Route } from './router.ts';

/** lal answers HTTP 200 with its own error code in the body; so does Sluice for lal's paths. */
const reply = (c: RequestContext, body: unknown): void => sendJson(c.res, 200, body);

/** A stream_name (plus app_name) from the query or a JSON body. */
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** lal's /api/stat and /api/ctrl endpoints on a media node. */
export function lalRoutes(x: NodeApiContext): Route[] {
  const groupKey = (streamName: string, appName: string) =>
    resolveKey(x.hub.keys(), streamName, appName || undefined);
  return [
    {
      path: '/api/stat/lal_info',
      style: 'lal',
      methods: { GET: { access: 'stats', handle: (c) => reply(c, lalOk(lalInfo(x.nodeId, x.startedAt))) } },
    },
    {
      path: '/api/stat/all_group',
      style: 'lal',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const sessions = x.table.list();
            const groups = [...x.hub.all()].map((s) => lalGroupOf(s, x.table, sessions));
            reply(c, lalOk({ groups }));
          },
        },
      },
    },
    {
      path: '/api/stat/group',
      style: 'lal',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const name = c.query.get('stream_name') ?? '';
            if (!name) return reply(c, lalErr(LalCode.ParamMissing, LalDesp.ParamMissing));
            const m = groupKey(name, c.query.get('app_name') ?? '');
            if (!m.ok)
              return reply(
                c,
                lalErr(
                  LalCode.GroupNotFound,
                  m.ambiguous
                    ? 'group not found: stream_name is ambiguous, add app_name'
                    : LalDesp.GroupNotFound,
                ),
              );
            reply(c, lalOk(lalGroupOf(x.hub.get(m.key)!, x.table, x.table.list())));
          },
        },
      },
    },
    {
      path: '/api/ctrl/start_relay_pull',
      style: 'lal',
      methods: {
        POST: {
          access: 'control',
          handle: async (c) => {
            const body = await readJsonBody(c.req);
            const mapped = relayPullFromLal(body);
            if (!mapped.ok) {
              return reply(
                c,
                mapped.missing
                  ? lalErr(LalCode.ParamMissing, LalDesp.ParamMissing)
                  : lalErr(LalCode.StartRelayPullFail, mapped.message),
              );
            }
            const pulls = x.relayPulls?.() ?? null;
            if (!pulls)
              return reply(
                c,
                lalErr(LalCode.StartRelayPullFail, 'relay pulls are not available on this node'),
              );
            const r = await pulls.start(mapped.req);
            if (!r.ok) return reply(c, lalErr(LalCode.StartRelayPullFail, r.message));
            x.log.info({ stream: r.value.key, session: r.value.id }, 'api: relay pull started');
            reply(
              c,
              lalOk({
                stream_name: mapped.req.key.slice(mapped.req.key.lastIndexOf('/') + 1),
                session_id: r.value.id,
              }),
            );
          },
        },
      },
    },
    {
      path: '/api/ctrl/stop_relay_pull',
      style: 'lal',
      methods: Object.fromEntries(
        ['GET', 'POST'].map((m) => [
          m,
          {
            access: 'control' as const,
            handle: async (c: RequestContext) => {
              const body = c.req.method === 'POST' ? await readJsonBody(c.req) : {};
              const name = c.query.get('stream_name') ?? str(body.stream_name);
              const app = c.query.get('app_name') ?? str(body.app_name);
              if (!name) return reply(c, lalErr(LalCode.ParamMissing, LalDesp.ParamMissing));
              const pulls = x.relayPulls?.() ?? null;
              if (!pulls) return reply(c, lalErr(LalCode.GroupNotFound, LalDesp.GroupNotFound));
              const m = resolveKey(
                pulls.list().map((p) => p.key),
                name,
                app || undefined,
              );
              if (!m.ok) return reply(c, lalErr(LalCode.GroupNotFound, LalDesp.GroupNotFound));
              const r = await pulls.stop(m.key);
              if (!r.ok) return reply(c, lalErr(LalCode.SessionNotFound, LalDesp.SessionNotFound));
              reply(c, lalOk({ session_id: r.value.id }));
            },
          },
        ]),
      ),
    },
    {
      path: '/api/ctrl/kick_session',
      style: 'lal',
      methods: {
        POST: {
          access: 'control',
          handle: async (c) => {
            const body = await readJsonBody(c.req);
            const name = str(body.stream_name);
            const id = str(body.session_id);
            if (!name || !id) return reply(c, lalErr(LalCode.ParamMissing, LalDesp.ParamMissing));
            const m = groupKey(name, str(body.app_name));
            if (!m.ok) return reply(c, lalErr(LalCode.GroupNotFound, LalDesp.GroupNotFound));
            if (!inStream(x, m.key, id) || !x.kick(id, 'kicked by the api')) {
              return reply(c, lalErr(LalCode.SessionNotFound, LalDesp.SessionNotFound));
            }
            x.counters.inc('api_kicks');
            x.log.info({ stream: m.key, session: id }, 'api: session kicked');
            reply(c, lalOk());
          },
        },
      },
    },
  ];
}

/** Whether session `id` belongs to stream `key` (a known session, the publisher or a viewer). */
export function inStream(x: NodeApiContext, key: string, id: string): boolean {
  if (x.table.get(id)?.key === key) return true;
  const s = x.hub.get(key);
  if (!s) return false;
  if (s.publisherHandle?.id === id) return true;
  for (const sub of s.subscribers) if (sub.sink.id === id) return true;
  return false;
}
