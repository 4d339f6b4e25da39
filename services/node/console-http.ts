import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { StaticFiles, type StaticFile } from '../../libs/http/static-files.ts';

/** Where the console's pages live: services/node/console/, copied beside this file's build by scripts/build.js. */
const ASSETS = fileURLToPath(new URL('./console/', import.meta.url));
const require = createRequire(import.meta.url);

const JS = 'text/javascript; charset=utf-8';

/** The console's own files and the two player libraries, by URL path: nothing else is served. */
function consoleFiles(): Record<string, StaticFile> {
  const own = (name: string, contentType: string): StaticFile => ({ file: ASSETS + name, contentType });
  return {
    '/console/': own('index.html', 'text/html; charset=utf-8'),
    '/console/console.css': own('console.css', 'text/css; charset=utf-8'),
    '/console/main.js': own('main.js', JS),
    '/console/api.js': own('api.js', JS),
    '/console/model.js': own('model.js', JS),
    '/console/render.js': own('render.js', JS),
    '/console/preview.js': own('preview.js', JS),
    '/console/vendor/hls.min.js': { file: require.resolve('hls.js/dist/hls.min.js'), contentType: JS },
    '/console/vendor/mpegts.js': { file: require.resolve('mpegts.js/dist/mpegts.js'), contentType: JS },
  };
}

/**
 * Media may come from another port or host than the page (the node's HTTP listener; on the
 * scheduler, whichever edge /play redirects to), so fetches may go to any http(s) origin. Scripts,
 * styles and workers come from this origin only (hls.js starts its worker from a blob: URL), and
 * MSE plays from blob: URLs. No inline script or style anywhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** What the page needs to know about the server it came from (/console/env.json). */
export interface ConsoleEnv {
  /** node: a media node's API port; scheduler: the cluster's scheduler. */
  kind: 'node' | 'scheduler';
  nodeId: string;
  /** Ports of the node's HTTP media listeners (play URLs use the page's host); null when off. */
  media?: { httpPort: number | null; httpsPort: number | null };
}

export interface ConsoleHttpDeps {
  log: Logger;
  /** Read per request: the listeners' ports are known only once they are bound. */
  env: () => ConsoleEnv;
  /** Redirect `/` to `/console/` (the API port, where nothing else is at `/`). */
  redirectRoot: boolean;
}

/**
 * The web console (issue #11): plain HTML, ES modules and CSS from a fixed list, served without
 * credentials; the page itself asks for the API token and sends it on its API calls only.
 */
export class ConsoleHttp {
  private readonly files = new StaticFiles(consoleFiles());
  private readonly deps: ConsoleHttpDeps;
  private readonly log: Logger;
  private failureLogged = false;

  constructor(deps: ConsoleHttpDeps) {
    this.deps = deps;
    this.log = deps.log.child({ component: 'console' });
  }

  /** Answers the console's paths (GET and HEAD); false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/console' || (path === '/' && this.deps.redirectRoot)) {
      res.writeHead(302, { ...CONSOLE_HEADERS, Location: '/console/' }).end();
      return true;
    }
    if (path !== '/console/' && !path.startsWith('/console/')) return false;
    try {
      if (path === '/console/env.json') {
        const body = JSON.stringify(this.deps.env());
        res.writeHead(200, {
          ...CONSOLE_HEADERS,
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else if (!this.files.serve(req, res, path, CONSOLE_HEADERS)) {
        res.writeHead(404, { ...CONSOLE_HEADERS, 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      // A missing file is an installation problem: say so once, not per request.
      if (!this.failureLogged) {
        this.failureLogged = true;
        this.log.error({ err: (err as Error).message, path }, 'console file unavailable');
      }
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('console unavailable\n');
    }
    return true;
  }
}

/** The env of a media node's console from its bound listeners (`host:port` strings). */
export function nodeConsoleEnv(nodeId: string, listening: { http?: string; https?: string }): ConsoleEnv {
  return {
    kind: 'node',
    nodeId,
    media: { httpPort: portOf(listening.http), httpsPort: portOf(listening.https) },
  };
}

function portOf(address: string | undefined): number | null {
  if (address === undefined) return null;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : null;
}
