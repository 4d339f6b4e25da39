import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import type { StreamHub } from '../../libs/stream/index.ts';
import { listenOn } from '../../libs/http/listen.ts';
import { gaugeText } from '../../libs/metrics/gauge-text.ts';

export interface ApiDeps {
  hub: StreamHub;
  counters: Counters;
  log: Logger;
  nodeId: string;
  /** True once every media listener is up (and false again while draining). */
  ready: () => boolean;
  /** Gauges for /metrics beside the counters (event-loop delay, process memory); also in stats. */
  gauges?: () => Record<string, number>;
  /** Sessions by kind as the node counts them for its load reports (stats). */
  sessions?: () => Record<string, number>;
}

/** Health, stats and metrics on the API port. Later issues add the lal-compatible HTTP API here. */
export class ApiServer {
  private readonly server: Server;
  private readonly deps: ApiDeps;

  constructor(deps: ApiDeps) {
    this.deps = deps;
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    switch (path) {
      case '/healthz': {
        const ok = this.deps.ready();
        json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'starting', node: this.deps.nodeId });
        return;
      }
      case '/metrics':
        res
          .writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' })
          .end(this.deps.counters.toPrometheus() + gaugeText(this.deps.gauges?.() ?? {}));
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
          streams: this.deps.hub.size,
          sessions: this.deps.sessions?.() ?? {},
          gauges: this.deps.gauges?.() ?? {},
          counters: this.deps.counters.snapshot(),
        });
        return;
      }
      default:
        json(res, 404, { error: 'not found' });
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
