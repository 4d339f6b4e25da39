import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { Metrics } from '../../libs/metrics/metrics.ts';
import type { StreamHub } from '../../libs/stream/index.ts';
import { answerClientError, CONNECTIONS_CHECKING_INTERVAL_MS } from '../../libs/http/client-error.ts';
import { listenOn } from '../../libs/http/listen.ts';
import type { ApiAuthConfig } from './api/auth.ts';
import { sendError } from './api/http.ts';
import { lalRoutes } from './api/lal.ts';
import { LalCode, LalDesp, lalErr } from './api/lal-shape.ts';
import type { NodeApiContext } from './api/node-context.ts';
import { Router, type Route } from './api/router.ts';
import type { SessionTable } from './api/sessions.ts';
import { v1Routes } from './api/v1.ts';
import type { RelayPullControl, RelayPushControl } from './control-types.ts';

export interface ApiDeps {
  hub: StreamHub;
  counters: Counters;
  /** The node's registry: counters, gauges, histograms and process metrics. */
  metrics: Metrics;
  log: Logger;
  nodeId: string;
  /** Readiness: ready once listeners are up (and, in cluster roles, registry and bus); not while draining. */
  health: () => NodeHealth;
  /** Sessions by kind now (what heartbeats report as the node's load). */
  sessions: () => { publisher: number; player: number; relay: number };
  /** The node-wide input memory budget and what it holds now. */
  input: { readonly bufferedBytes: number; readonly budgetBytes: number };
  /** Open media connections (RTMP and HTTP) and the limit. */
  connections: () => { active: number; max: number };
  /** Gauges beside the registry's (event-loop delay, process memory); also in stats. */
  gauges?: () => Record<string, number>;
  /** Token rules (api.token, api.protectStats). */
  auth: ApiAuthConfig;
  /** The node's sessions (fed by MediaNode.observe). */
  table: SessionTable;
  /** Ends a session of any protocol by id. */
  kick: (sessionId: string, reason: string) => boolean;
  relayPulls?: () => RelayPullControl | null;
  relayPushes?: () => RelayPushControl | null;
}

export interface NodeHealth {
  ready: boolean;
  /** starting (listeners or cluster links not up yet), ready, draining, or unready (a link lost). */
  status: 'starting' | 'ready' | 'draining' | 'unready';
  /** Each condition readiness needs, and whether it holds now. */
  checks: Record<string, boolean>;
}

/** Health, stats and metrics on the API port, lal's HTTP API and /api/v1 (see openapi.json). */
export class ApiServer {
  private readonly server: Server;
  private readonly deps: ApiDeps;
  private readonly log: Logger;
  private readonly router: Router;

  constructor(deps: ApiDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'api' });
    const ctx: NodeApiContext = {
      nodeId: deps.nodeId,
      hub: deps.hub,
      table: deps.table,
      counters: deps.counters,
      log: this.log,
      startedAt: Date.now() - Math.round(process.uptime() * 1000),
      kick: deps.kick,
      ...(deps.relayPulls ? { relayPulls: deps.relayPulls } : {}),
      ...(deps.relayPushes ? { relayPushes: deps.relayPushes } : {}),
    };
    this.router = new Router([...this.baseRoutes(), ...lalRoutes(ctx), ...v1Routes(ctx)], {
      auth: deps.auth,
      counters: deps.counters,
      log: this.log,
    });
    this.server = createServer(
      { connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS },
      (req, res) => this.onRequest(req, res),
    );
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    const log = this.log;
    this.server.on('clientError', (err, socket: Socket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const code = answerClientError(err, socket);
      if (code === null) return;
      deps.counters.inc('protocol_errors', 1, { proto: 'api', code });
      log.warn({ remote, code, err: err.message }, 'api request refused');
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    this.deps.table.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Counts and logs a request the API does not serve. */
  private refused(req: IncomingMessage, counter: string): void {
    this.deps.counters.inc(counter);
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    this.log.info(
      { remote, method: req.method, path: (req.url ?? '').split('?')[0]!.slice(0, 200) },
      'api request refused',
    );
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.router.handle(req, res)) return;
    this.refused(req, 'api_not_found');
    const path = (req.url ?? '/').split('?')[0]!;
    // lal answers unknown paths with its 404 envelope; /api/v1 and the rest with {error}.
    if (path.startsWith('/api/') && !path.startsWith('/api/v1/')) {
      json(res, 404, lalErr(LalCode.PageNotFound, LalDesp.PageNotFound));
    } else {
      sendError(res, 404, 'not_found', 'not found');
    }
  }

  private baseRoutes(): Route[] {
    const d = this.deps;
    return [
      {
        // Alive: the process answers. Readiness (taking new sessions) is /readyz.
        path: '/healthz',
        style: 'v1',
        methods: {
          GET: {
            access: 'open',
            handle: ({ res }) => {
              const h = d.health();
              json(res, 200, { status: h.status === 'ready' ? 'ok' : h.status, node: d.nodeId });
            },
          },
        },
      },
      {
        path: '/readyz',
        style: 'v1',
        methods: {
          GET: {
            access: 'open',
            handle: ({ res }) => {
              const h = d.health();
              json(res, h.ready ? 200 : 503, { status: h.status, node: d.nodeId, checks: h.checks });
            },
          },
        },
      },
      {
        path: '/metrics',
        style: 'v1',
        methods: {
          GET: {
            access: 'open',
            handle: async ({ res }) => {
              const text = await d.metrics.text();
              res.writeHead(200, { 'Content-Type': d.metrics.contentType }).end(text);
            },
          },
        },
      },
      {
        path: '/api/v1/streams',
        style: 'v1',
        methods: { GET: { access: 'stats', handle: ({ res }) => json(res, 200, { streams: d.hub.list() }) } },
      },
      {
        path: '/api/v1/stats',
        style: 'v1',
        methods: { GET: { access: 'stats', handle: ({ res }) => json(res, 200, this.stats()) } },
      },
    ];
  }

  private stats(): Record<string, unknown> {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      node: this.deps.nodeId,
      uptimeMs: Math.round(process.uptime() * 1000),
      memory: {
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        externalBytes: m.external,
        arrayBuffersBytes: m.arrayBuffers,
      },
      cpu: { userMicros: cpu.user, systemMicros: cpu.system },
      status: this.deps.health().status,
      streams: this.deps.hub.size,
      sessions: this.deps.sessions(),
      input: { bufferedBytes: this.deps.input.bufferedBytes, budgetBytes: this.deps.input.budgetBytes },
      connections: this.deps.connections(),
      gauges: this.deps.gauges?.() ?? {},
      counters: this.deps.counters.snapshot(),
    };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
