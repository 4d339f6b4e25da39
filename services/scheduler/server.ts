import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { redactQuery } from '../../libs/auth/query.ts';
import { listenOn } from '../../libs/http/listen.ts';
import type { Counters } from '../../libs/metrics/counters.ts';
import { Metrics } from '../../libs/metrics/metrics.ts';
import { sendJson } from '../node/api/http.ts';
import { LalCode, LalDesp, lalErr } from '../node/api/lal-shape.ts';
import type { Router } from '../node/api/router.ts';
import { ConsoleHttp } from '../node/console-http.ts';
import { parseKeyPath, parsePlayPath } from './key-path.ts';
import { parsePage, type Listing, type PageRequest } from './page.ts';
import type { Answer, Scheduler } from './scheduler.ts';
import { RouteKind, RouteMetrics } from './route-metrics.ts';
import { SCHEDULER_GAUGE_HELP, type ViewStatus } from './status.ts';

export interface SchedulerServerDeps {
  scheduler: Scheduler;
  counters: Counters;
  log: Logger;
  nodeId: string;
  /** Readiness and what the view is based on (/readyz). */
  status: () => ViewStatus;
  /** The registry /metrics exposes (holding `counters`); without one, the counters' registry alone. */
  metrics?: Metrics;
  /** Gauges for /metrics (`sluice_<key>`), read at scrape time. */
  gauges?: () => Record<string, number>;
  /** The cluster-wide API (lal /api/stat, /api/ctrl; /api/v1 sessions, relays, openapi.json): api/routes.ts. */
  api?: Router;
}

/** Registry failures are logged at most this often; each is counted. */
const LOG_FAILURE_EVERY_MS = 10_000;

const JSON_HEADERS = {
  'Content-Type': 'application/json',
  // Answers change as nodes come and go; a cached route would outlive its edge.
  'Cache-Control': 'no-store',
  'Access-Control-Allow-Origin': '*',
} as const;

/**
 * The scheduler's HTTP face: `/api/v1/{streams,nodes,route,ingest}`, `/play/<key>.<ext>`
 * redirects, `/healthz`, `/readyz`, `/metrics`, and the cluster-wide API (`deps.api`: lal's
 * /api/stat and /api/ctrl, /api/v1 sessions and relay pulls, with the nodes' token rules). Bad paths, limits and cursors get 400/404 with
 * `{ error }`; a registry read that fails gets 503; nothing a client sends can throw past
 * `onRequest`.
 */
export class SchedulerServer {
  private readonly server: Server;
  private readonly deps: SchedulerServerDeps;
  private lastFailureLogAt = 0;
  private draining = false;
  private readonly metrics: Metrics;
  private readonly routes: RouteMetrics;
  private readonly console: ConsoleHttp;

  constructor(deps: SchedulerServerDeps) {
    this.deps = deps;
    this.metrics = deps.metrics ?? new Metrics({ counters: deps.counters, processMetrics: false });
    this.routes = new RouteMetrics(this.metrics);
    this.console = new ConsoleHttp({
      log: deps.log,
      redirectRoot: false,
      env: () => ({ kind: 'scheduler', nodeId: deps.nodeId }),
    });
    if (deps.gauges) this.metrics.gaugeRecord(deps.gauges, SCHEDULER_GAUGE_HELP);
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => this.internalError(res, err));
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenOn(this.server, host, port);
  }

  /** /readyz answers 503 from now on (load balancers stop sending) while requests still work. */
  drain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      // Requests are short; whatever is still open after a second is cut.
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (this.console.handle(req, res)) return;
    if (this.deps.api?.handle(req, res)) return;
    if (/^\/api\/(stat|ctrl)\//.test(url)) {
      // lal's paths answer lal's 404 envelope.
      this.deps.counters.inc('scheduler_requests', 1, { endpoint: 'other', status: '404' });
      return sendJson(res, 404, lalErr(LalCode.PageNotFound, LalDesp.PageNotFound));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...JSON_HEADERS, Allow: 'GET, HEAD' });
      res.end(JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const { scheduler } = this.deps;

    switch (path) {
      case '/healthz':
        return this.send(req, res, 'healthz', {
          status: 200,
          body: { status: 'ok', node: this.deps.nodeId },
        });
      case '/readyz': {
        const st = this.deps.status();
        const ok = !this.draining && st.ready;
        return this.send(req, res, 'readyz', {
          status: ok ? 200 : 503,
          body: { ...st.body, status: this.draining ? 'draining' : st.body.status, node: this.deps.nodeId },
        });
      }
      case '/metrics': {
        const text = await this.metrics.text();
        res.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      case '/api/v1/streams':
        return this.paged(req, res, 'streams', query, (p) => scheduler.streams(p));
      case '/api/v1/nodes':
        return this.paged(req, res, 'nodes', query, (p) => scheduler.nodes(p));
    }

    const keyed = KEYED.find((k) => path.startsWith(k.prefix));
    if (keyed) {
      const key = parseKeyPath(path.slice(keyed.prefix.length));
      if (!key) return this.send(req, res, keyed.endpoint, badKey);
      switch (keyed.endpoint) {
        case 'stream':
          return this.answer(req, res, 'stream', () => scheduler.stream(key));
        case 'route': {
          // From memory: no registry read, nothing to wait for.
          const t0 = performance.now();
          const a = scheduler.route(key, query.get('protocol') ?? undefined);
          this.routes.record(RouteKind.Play, t0, a);
          return this.send(req, res, 'route', a);
        }
        case 'ingest': {
          const t0 = performance.now();
          return this.answer(
            req,
            res,
            'ingest',
            () => scheduler.ingest(key),
            (a) => this.routes.record(RouteKind.Ingest, t0, a),
          );
        }
      }
    }
    if (path.startsWith('/play/')) {
      const p = parsePlayPath(url.slice('/play'.length));
      if ('error' in p) {
        const error =
          p.error === 'bad-extension'
            ? 'play URLs end in .flv, .ts or .m3u8 (RTMP players cannot follow redirects: use /api/v1/route)'
            : 'invalid stream key';
        return this.send(req, res, 'play', {
          status: p.error === 'bad-extension' ? 404 : 400,
          body: { error },
        });
      }
      const t0 = performance.now();
      const a = scheduler.play(p.key, p.protocol, p.search);
      this.routes.record(RouteKind.Play, t0, a);
      return this.send(req, res, 'play', a);
    }
    return this.send(req, res, 'other', { status: 404, body: { error: 'not found' } });
  }

  /** A listing: `limit` and `cursor` checked first (400 with the reason). */
  private paged(
    req: IncomingMessage,
    res: ServerResponse,
    listing: Listing,
    query: URLSearchParams,
    run: (p: PageRequest) => Answer,
  ): Promise<void> | void {
    const p = parsePage(listing, query);
    if ('error' in p) return this.send(req, res, listing, { status: 400, body: { error: p.error } });
    return this.send(req, res, listing, run(p));
  }

  /** Runs a query that may read the registry; a rejection means the registry is unavailable (503). */
  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    run: () => Answer | Promise<Answer>,
    answered?: (a: Answer) => void,
  ): Promise<void> {
    let a: Answer;
    try {
      a = await run();
    } catch (err) {
      this.deps.counters.inc('scheduler_registry_errors');
      const now = Date.now();
      if (now - this.lastFailureLogAt >= LOG_FAILURE_EVERY_MS) {
        this.lastFailureLogAt = now;
        this.deps.log.warn({ err: (err as Error).message, endpoint }, 'registry read failed; answering 503');
      }
      a = { status: 503, body: { error: 'registry unavailable' } };
    }
    answered?.(a);
    this.send(req, res, endpoint, a);
  }

  private send(req: IncomingMessage, res: ServerResponse, endpoint: string, a: Answer): void {
    this.deps.counters.inc('scheduler_requests', 1, { endpoint, status: String(a.status) });
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (a.location !== undefined) headers.Location = a.location;
    if (a.status === 503) headers['Retry-After'] = '1';
    res.writeHead(a.status, headers);
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(a.body));
    // /play URLs pass their query on to the edge: it may carry a signature or lal_secret.
    this.deps.log.debug({ url: redactQuery(req.url ?? ''), status: a.status, endpoint }, 'request');
  }

  private internalError(res: ServerResponse, err: unknown): void {
    this.deps.counters.inc('scheduler_internal_errors');
    this.deps.log.error({ err }, 'scheduler request failed');
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    res.writeHead(500, JSON_HEADERS).end(JSON.stringify({ error: 'internal error' }));
  }
}

const KEYED = [
  { prefix: '/api/v1/streams/', endpoint: 'stream' },
  { prefix: '/api/v1/route/', endpoint: 'route' },
  { prefix: '/api/v1/ingest/', endpoint: 'ingest' },
] as const;

const badKey: Answer = { status: 400, body: { error: 'invalid stream key: expected app[/more]/name' } };
