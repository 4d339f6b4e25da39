import { readFileSync } from 'node:fs';
import { readJsonBody, sendError, sendJson } from '../../node/api/http.ts';
import { relayPullFromV1, statusOfControl } from '../../node/api/relay-map.ts';
import type { RequestContext, Route } from '../../node/api/router.ts';
import type { IngestAnswer } from '../scheduler.ts';
import type { ClusterSession } from '../session-index.ts';
import { refusalOf, type SchedulerApiContext } from './context.ts';
import type { Forwarded } from './control-forward.ts';

/** The scheduler's OpenAPI document, read once (beside this file, in the source and in dist). */
let openapiText: string | null = null;
export function schedulerOpenapi(): string {
  openapiText ??= readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
  return openapiText;
}

/** A cluster session in /api/v1's shape (the node's fields it knows, plus nodeId). */
export function v1ClusterSession(s: ClusterSession): Record<string, unknown> {
  return {
    id: s.sessionId,
    kind: s.kind,
    protocol: s.protocol,
    key: s.key,
    remote: s.remote,
    startedAt: s.startedAt,
    nodeId: s.nodeId,
  };
}

function unreachable(c: RequestContext, f: Extract<Forwarded, { ok: false }>): void {
  sendError(c.res, f.why === 'no_nats' ? 503 : 504, f.why, f.message);
}

/** /api/v1 sessions, kicks and relay pulls for the whole cluster (streams, nodes and routing stay in server.ts). */
export function schedulerV1Routes(x: SchedulerApiContext): Route[] {
  return [
    {
      path: '/api/v1/openapi.json',
      style: 'v1',
      methods: {
        GET: {
          access: 'open',
          handle: (c) =>
            void c.res.writeHead(200, { 'Content-Type': 'application/json' }).end(schedulerOpenapi()),
        },
      },
    },
    {
      path: '/api/v1/sessions',
      style: 'v1',
      methods: {
        GET: {
          access: 'stats',
          handle: (c) => {
            const key = c.query.get('key');
            const list = key ? x.sessions.ofKey(key) : x.sessions.all();
            sendJson(c.res, 200, { sessions: list.map(v1ClusterSession) });
          },
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
            const s = x.sessions.find(c.params.id!);
            if (!s) return sendError(c.res, 404, 'not_found', 'no such session');
            sendJson(c.res, 200, { session: v1ClusterSession(s) });
          },
        },
        DELETE: {
          access: 'control',
          handle: async (c) => {
            const id = c.params.id!;
            const s = x.sessions.find(id);
            if (!s) return sendError(c.res, 404, 'not_found', 'no such session');
            const f = await x.control.send({ instanceId: s.instanceId }, { op: 'kick', sessionId: id });
            if (!f.ok) return unreachable(c, f);
            if (!f.reply.ok) return sendError(c.res, 404, 'not_found', 'no such session');
            x.counters.inc('api_kicks');
            x.log.info({ stream: s.key, session: id, target: s.nodeId }, 'api: session kicked');
            sendJson(c.res, 200, { kicked: id, nodeId: s.nodeId });
          },
        },
      },
    },
    {
      path: '/api/v1/relays/pulls',
      style: 'v1',
      methods: {
        POST: {
          access: 'control',
          handle: async (c) => {
            const mapped = relayPullFromV1(await readJsonBody(c.req));
            if (!mapped.ok) return sendError(c.res, 400, 'invalid', mapped.message);
            const a = await x.scheduler.ingest(mapped.req.key);
            if (a.status !== 200) {
              const why = (a.body as { error?: string }).error ?? 'no origin available';
              return sendError(c.res, 503, 'no_origin', why);
            }
            const nodeId = (a.body as IngestAnswer).origin.nodeId;
            const f = await x.control.send(nodeId, { op: 'relay.pull.start', ...mapped.req });
            if (!f.ok) return unreachable(c, f);
            if (!f.reply.ok) {
              const r = refusalOf(f.reply);
              return sendError(c.res, statusOfControl(r), r.code, r.message);
            }
            x.log.info({ stream: mapped.req.key, target: nodeId }, 'api: relay pull started');
            sendJson(c.res, 200, { relay: f.reply.data, nodeId });
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
          handle: async (c) => {
            const key = c.params.key!;
            const owner = x.view.owner(key);
            if (!owner) return sendError(c.res, 404, 'not_found', `no stream ${key} in the cluster`);
            const f = await x.control.send({ instanceId: owner.instanceId }, { op: 'relay.pull.stop', key });
            if (!f.ok) return unreachable(c, f);
            if (!f.reply.ok) {
              const r = refusalOf(f.reply);
              return sendError(c.res, statusOfControl(r), r.code, r.message);
            }
            x.log.info({ stream: key, target: owner.nodeId }, 'api: relay pull stopped');
            sendJson(c.res, 200, { relay: f.reply.data, nodeId: owner.nodeId });
          },
        },
      },
    },
  ];
}
