import { readJsonBody, sendJson } from '../../node/api/http.ts';
import { LalCode, LalDesp, lalErr, lalInfo, lalOk, resolveKey } from '../../node/api/lal-shape.ts';
import { relayPullFromLal } from '../../node/api/relay-map.ts';
import { fail, type RequestContext, type Route } from '../../node/api/router.ts';
import type { IngestAnswer } from '../scheduler.ts';
import { clusterGroup } from './cluster-groups.ts';
import { ownedKeys, type SchedulerApiContext } from './context.ts';
import type { Forwarded } from './control-forward.ts';

/**
 * Owners whose codecs the view does not know yet are read from Redis (origins record them once
 * frames arrive, without an event), at most this many per all_group request.
 */
const MEDIA_READS_PER_REQUEST = 32;

const reply = (c: RequestContext, body: unknown): void => sendJson(c.res, 200, body);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A forward that did not reach its node: 503 without NATS, 504 otherwise, in lal's envelope. */
function unreachable(c: RequestContext, f: Extract<Forwarded, { ok: false }>): void {
  const status = f.why === 'no_nats' ? 503 : 504;
  fail(c.res, 'lal', status, f.why, f.message, status);
}

/** lal's /api/stat and /api/ctrl for the whole cluster, answered by the scheduler. */
export function schedulerLalRoutes(x: SchedulerApiContext): Route[] {
  const findKey = (name: string, app: string) => resolveKey(ownedKeys(x), name, app || undefined);
  const notFound = (c: RequestContext, ambiguous: boolean): void =>
    reply(
      c,
      lalErr(
        LalCode.GroupNotFound,
        ambiguous ? 'group not found: stream_name is ambiguous, add app_name' : LalDesp.GroupNotFound,
      ),
    );
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
          handle: async (c) => {
            const keys = ownedKeys(x);
            const unknown = keys
              .filter((k) => Object.keys(x.view.owner(k)?.media ?? {}).length === 0)
              .slice(0, MEDIA_READS_PER_REQUEST);
            await Promise.all(unknown.map((k) => x.scheduler.ownerWithMedia(k).catch(() => null)));
            const groups = [];
            for (const k of keys) {
              const o = x.view.owner(k);
              if (o) groups.push(clusterGroup(o, x.sessions.ofKey(k)));
            }
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
          handle: async (c) => {
            const name = c.query.get('stream_name') ?? '';
            if (!name) return reply(c, lalErr(LalCode.ParamMissing, LalDesp.ParamMissing));
            const m = findKey(name, c.query.get('app_name') ?? '');
            if (!m.ok) return notFound(c, m.ambiguous);
            const o = await x.scheduler.ownerWithMedia(m.key);
            if (!o) return notFound(c, false);
            reply(c, lalOk(clusterGroup(o, x.sessions.ofKey(m.key))));
          },
        },
      },
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
            const m = findKey(name, str(body.app_name));
            if (!m.ok) return notFound(c, m.ambiguous);
            const s = x.sessions.find(id);
            if (!s || s.key !== m.key) {
              return reply(c, lalErr(LalCode.SessionNotFound, LalDesp.SessionNotFound));
            }
            const f = await x.control.send({ instanceId: s.instanceId }, { op: 'kick', sessionId: id });
            if (!f.ok) return unreachable(c, f);
            if (!f.reply.ok) return reply(c, lalErr(LalCode.SessionNotFound, LalDesp.SessionNotFound));
            x.counters.inc('api_kicks');
            x.log.info({ stream: m.key, session: id, target: s.nodeId }, 'api: session kicked');
            reply(c, lalOk());
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
            const mapped = relayPullFromLal(await readJsonBody(c.req));
            if (!mapped.ok) {
              return reply(
                c,
                mapped.missing
                  ? lalErr(LalCode.ParamMissing, LalDesp.ParamMissing)
                  : lalErr(LalCode.StartRelayPullFail, mapped.message),
              );
            }
            const { key } = mapped.req;
            // The key's owner (which refuses: it is published), else an origin picked by load.
            const a = await x.scheduler.ingest(key);
            if (a.status !== 200) {
              const why = (a.body as { error?: string }).error ?? 'no origin available';
              return reply(c, lalErr(LalCode.StartRelayPullFail, why));
            }
            const nodeId = (a.body as IngestAnswer).origin.nodeId;
            const f = await x.control.send(nodeId, { op: 'relay.pull.start', ...mapped.req });
            if (!f.ok) return unreachable(c, f);
            if (!f.reply.ok) {
              return reply(c, lalErr(LalCode.StartRelayPullFail, f.reply.error ?? 'refused'));
            }
            const relay = f.reply.data as { id?: unknown } | undefined;
            x.log.info({ stream: key, target: nodeId }, 'api: relay pull started');
            reply(
              c,
              lalOk({
                stream_name: key.slice(key.lastIndexOf('/') + 1),
                session_id: str(relay?.id),
                node_id: nodeId,
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
        ['GET', 'POST'].map((method) => [
          method,
          {
            access: 'control' as const,
            handle: async (c: RequestContext) => {
              const body = c.req.method === 'POST' ? await readJsonBody(c.req) : {};
              const name = c.query.get('stream_name') ?? str(body.stream_name);
              const app = c.query.get('app_name') ?? str(body.app_name);
              if (!name) return reply(c, lalErr(LalCode.ParamMissing, LalDesp.ParamMissing));
              const m = findKey(name, app);
              const owner = m.ok ? x.view.owner(m.key) : undefined;
              if (!m.ok || !owner) return notFound(c, !m.ok && m.ambiguous);
              const f = await x.control.send(
                { instanceId: owner.instanceId },
                { op: 'relay.pull.stop', key: m.key },
              );
              if (!f.ok) return unreachable(c, f);
              if (!f.reply.ok) return notFound(c, false);
              const relay = f.reply.data as { id?: unknown } | undefined;
              x.log.info({ stream: m.key, target: owner.nodeId }, 'api: relay pull stopped');
              reply(c, lalOk({ session_id: str(relay?.id), node_id: owner.nodeId }));
            },
          },
        ]),
      ),
    },
  ];
}
