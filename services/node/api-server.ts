import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { Metrics } from '../../libs/metrics/metrics.ts';
import type { StreamHub } from '../../libs/stream/index.ts';
import { answerClientError, CONNECTIONS_CHECKING_INTERVAL_MS } from '../../libs/http/client-error.ts';
import { listenOn } from '../../libs/http/listen.ts';
import type { ConsoleHttp } from './console-http.ts';

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
  /** The web console at /console/ (and / redirecting to it); absent: not served. */
  console?: ConsoleHttp;
}

export interface NodeHealth {
  ready: boolean;
  /** starting (listeners or cluster links not up yet), ready, draining, or unready (a link lost). */
  status: 'starting' | 'ready' | 'draining' | 'unready';
  /** Each condition readiness needs, and whether it holds now. */
  checks: Record<string, boolean>;
}

/** Health, stats and metrics on the API port. Later issues add the lal-compatible HTTP API here. */
export class ApiServer {
  private readonly server: Server;
  private readonly deps: ApiDeps;
  private readonly log: Logger;

  constructor(deps: ApiDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'api' });
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
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Counts and logs a request the API does not serve. */
  private refused(req: IncomingMessage, counter: string): void {
    this.deps.counters.inc(counter);
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    this.log.info({ remote, method: req.method, path: (req.url ?? '').slice(0, 200) }, 'api request refused');
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (this.deps.console?.handle(req, res)) return;
    if (req.method !== 'GET') {
      this.refused(req, 'api_method_not_allowed');
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    switch (path) {
      case '/healthz': {
        // Alive: the process answers. Readiness (taking new sessions) is /readyz.
        const h = this.deps.health();
        const status = h.status === 'ready' ? 'ok' : h.status;
        json(res, 200, { status, node: this.deps.nodeId });
        return;
      }
      case '/readyz': {
        const h = this.deps.health();
        json(res, h.ready ? 200 : 503, { status: h.status, node: this.deps.nodeId, checks: h.checks });
        return;
      }
      case '/metrics':
        this.deps.metrics.text().then(
          (text) => res.writeHead(200, { 'Content-Type': this.deps.metrics.contentType }).end(text),
          (e: unknown) => {
            this.log.error({ err: e }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
        return;
      case '/api/v1/streams':
        json(res, 200, { streams: this.deps.hub.list() });
        return;
      case '/api/v1/stats': {
        const m = process.memoryUsage();
        const cpu = process.cpuUsage();
        json(res, 200, {
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
        });
        return;
      }
      default:
        this.refused(req, 'api_not_found');
        json(res, 404, { error: 'not found' });
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
