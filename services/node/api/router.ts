import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import { checkAccess, type Access, type ApiAuthConfig, type AuthRefusal } from './auth.ts';
import { BodyError, queryOf, remoteOf, sendError, sendJson } from './http.ts';
import { LalCode, lalErr } from './lal-shape.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters (`{key}`, `{id}`), decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Handler = (c: RequestContext) => void | Promise<void>;

/** How errors of a route are answered: lal's envelope, /api/v1's `{error}`, or plain. */
export type ErrorStyle = 'lal' | 'v1';

export interface Route {
  /** `/api/v1/sessions/{id}`; `{key}` matches an `app/name` (several segments), `{id}` one segment. */
  path: string;
  style: ErrorStyle;
  methods: Partial<Record<string, { access: Access; handle: Handler }>>;
}

interface Compiled extends Route {
  re: RegExp;
  names: string[];
}

function compile(r: Route): Compiled {
  const names: string[] = [];
  const src = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return name === 'key' ? '([^?#]+?)' : '([^/?#]+)';
  });
  return { ...r, re: new RegExp(`^${src}$`), names };
}

const AUTH_STATUS: Record<AuthRefusal, number> = { missing: 401, wrong: 401, not_loopback: 403 };
const AUTH_TEXT: Record<AuthRefusal, string> = {
  missing: 'a bearer token is required',
  wrong: 'the bearer token is not valid',
  not_loopback: 'control endpoints answer loopback clients only while no api token is configured',
};

/** An error answer in the route's style. lal answers its own codes; the HTTP status still says what happened. */
export function fail(
  res: ServerResponse,
  style: ErrorStyle,
  status: number,
  code: string,
  message: string,
  lalCode: number,
  headers: Record<string, string> = {},
): void {
  if (style === 'lal') sendJson(res, status, lalErr(lalCode, message), headers);
  else sendError(res, status, code, message, headers);
}

/**
 * The API's routing: path match, 405 with Allow, token rules, body errors (413, 400), and a
 * logged 500 for anything unexpected. Requests are never logged with their query (it may carry secrets).
 */
export class Router {
  private readonly routes: Compiled[];
  private readonly d: { auth: ApiAuthConfig; counters: Counters; log: Logger };

  constructor(routes: Route[], d: Router['d']) {
    this.routes = routes.map(compile);
    this.d = d;
  }

  /** True when a route took the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      const method = req.method ?? 'GET';
      const entry = r.methods[method];
      if (!entry) {
        this.refused(req, 'api_method_not_allowed');
        const allow = Object.keys(r.methods).join(', ');
        fail(res, r.style, 405, 'method_not_allowed', `${method} is not allowed here`, LalCode.PageNotFound, {
          Allow: allow,
        });
        return true;
      }
      const why = checkAccess(req, entry.access, this.d.auth);
      if (why) {
        this.d.counters.inc('api_auth_refused', 1, { reason: why });
        this.d.log.warn(
          { remote: remoteOf(req), method, path: path.slice(0, 200), reason: why },
          'api request refused',
        );
        const headers: Record<string, string> =
          why === 'not_loopback' ? {} : { 'WWW-Authenticate': 'Bearer' };
        fail(
          res,
          r.style,
          AUTH_STATUS[why],
          why === 'not_loopback' ? 'forbidden' : 'unauthorized',
          AUTH_TEXT[why],
          AUTH_STATUS[why],
          headers,
        );
        return true;
      }
      const params: Record<string, string> = {};
      try {
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      } catch {
        fail(res, r.style, 400, 'bad_request', 'bad escape in the path', LalCode.ParamMissing);
        return true;
      }
      const ctx: RequestContext = { req, res, params, query: queryOf(req) };
      Promise.resolve()
        .then(() => entry.handle(ctx))
        .catch((e: unknown) => this.failed(ctx, r.style, e));
      return true;
    }
    return false;
  }

  private failed(c: RequestContext, style: ErrorStyle, e: unknown): void {
    if (e instanceof BodyError) {
      const big = e.code === 'BODY_TOO_LARGE';
      this.d.counters.inc('api_bad_requests', 1, { reason: big ? 'too_large' : 'bad_json' });
      fail(
        c.res,
        style,
        big ? 413 : 400,
        big ? 'payload_too_large' : 'bad_json',
        e.message,
        LalCode.ParamMissing,
        big ? { Connection: 'close' } : {},
      );
      if (big) c.req.resume();
      return;
    }
    this.d.log.error({ err: e, path: (c.req.url ?? '').split('?')[0] }, 'api handler failed');
    fail(c.res, style, 500, 'internal', 'internal error', 500);
  }

  private refused(req: IncomingMessage, counter: string): void {
    this.d.counters.inc(counter);
    this.d.log.info(
      { remote: remoteOf(req), method: req.method, path: (req.url ?? '').split('?')[0]!.slice(0, 200) },
      'api request refused',
    );
  }
}
