import type { Logger } from 'pino';
import { CidrList, hostOfRemote, parseIp } from '../../../libs/auth/cidr.ts';
import { checkLalSecret } from '../../../libs/auth/lal-md5.ts';
import { formatQuery } from '../../../libs/auth/query.ts';
import { inScope, type Scope } from '../../../libs/auth/scope.ts';
import { splitKey, verifySignature, type AuthAction } from '../../../libs/auth/signed-url.ts';
import { ConfigError } from '../../../libs/config/load.ts';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { AuthConfig } from './auth-config.ts';
import { CallbackClient } from './callback-client.ts';
import { simpleAuthApplies } from './simple-auth-scope.ts';

export interface AuthRequest {
  action: AuthAction;
  key: string;
  query: Record<string, string>;
  /** `host:port` / `[v6]:port` of the client. */
  remote: string;
  /** The session label: rtmp, rtsps, http-flv, wss-ts, hls, … */
  protocol: string;
  sessionId: string;
}

/** Which check refused (the `mode` label of auth_refused). */
export type AuthMode = 'ip' | 'lal' | 'signed' | 'callback';

export type AuthResult =
  | { ok: true }
  /** `status`: 401 when the credential is missing, 403 when it is wrong. */
  | { ok: false; mode: AuthMode; status: 401 | 403; why: string };

/**
 * Publish and play authorization (the `auth` config): IP deny and allow lists, lal's md5
 * simple auth, signed URLs and an HTTP callback, each scoped to actions and protocols. Every
 * check that applies must pass; the cheap ones go first, the callback last.
 */
export class Authorizer {
  private readonly cfg: AuthConfig;
  private readonly deny: CidrList;
  private readonly allow: CidrList;
  private readonly callback: CallbackClient | null;
  private readonly d: { nodeId: string; counters: Counters; log: Logger };

  constructor(cfg: AuthConfig, d: { nodeId: string; counters: Counters; log: Logger }) {
    this.cfg = cfg;
    this.d = d;
    const deny = CidrList.parse(cfg.ip.deny);
    const allow = CidrList.parse(cfg.ip.allow);
    const problems = [
      ...deny.bad.map((b) => `auth.ip.deny: ${JSON.stringify(b)} is not an address or CIDR block`),
      ...allow.bad.map((b) => `auth.ip.allow: ${JSON.stringify(b)} is not an address or CIDR block`),
    ];
    if (cfg.signed.enabled && cfg.signed.secrets.length === 0) {
      problems.push('auth.signed.enabled needs at least one auth.signed.secrets entry');
    }
    const s = cfg.simpleAuth;
    const anyLal =
      s.pub_rtmp_enable ||
      s.sub_rtmp_enable ||
      s.sub_httpflv_enable ||
      s.sub_httpts_enable ||
      s.pub_rtsp_enable ||
      s.sub_rtsp_enable ||
      s.hls_m3u8_enable;
    if (anyLal && s.key === '') problems.push('auth.simpleAuth: an *_enable flag is on but key is empty');
    if (problems.length) throw new ConfigError(problems);
    this.deny = deny.list;
    this.allow = allow.list;
    this.callback =
      cfg.callback.onPublish || cfg.callback.onPlay
        ? new CallbackClient(cfg.callback, d.counters, d.log)
        : null;
  }

  /** Whether any check applies to `action` over `protocol` (HLS segments need a session then). */
  covers(action: AuthAction, protocol: string): boolean {
    const c = this.cfg;
    const ip = c.ip.deny.length > 0 || c.ip.allow.length > 0;
    return (
      (ip && inScope(c.ip, action, protocol)) ||
      simpleAuthApplies(c.simpleAuth, action, protocol) ||
      (c.signed.enabled && inScope(c.signed, action, protocol)) ||
      this.callbackUrl(action, protocol) !== ''
    );
  }

  /**
   * Whether the IP lists let `remote` do `action` over `protocol` (true when none applies). HLS
   * asks it again for every request that shows a session token: a token handed to a denied
   * address must not play there.
   */
  addressAllowed(action: AuthAction, protocol: string, remote: string): boolean {
    return this.addressRefusal(action, protocol, remote) === null;
  }

  private addressRefusal(action: AuthAction, protocol: string, remote: string): string | null {
    if (!(this.deny.size || this.allow.size) || !inScope(this.cfg.ip, action, protocol)) return null;
    const ip = parseIp(hostOfRemote(remote));
    if (!ip || this.deny.matches(ip)) return 'client address denied';
    if (this.allow.size && !this.allow.matches(ip)) return 'client address not allowed';
    return null;
  }

  async check(req: AuthRequest): Promise<AuthResult> {
    const r = await this.decide(req);
    const labels = { proto: req.protocol, action: req.action };
    if (r.ok) {
      this.d.counters.inc('auth_allowed', 1, { proto: req.protocol, action: req.action });
    } else {
      this.d.counters.inc('auth_refused', 1, { proto: req.protocol, action: req.action, mode: r.mode });
      this.d.log.warn(
        { session: req.sessionId, stream: req.key, remote: req.remote, ...labels, mode: r.mode, why: r.why },
        `${req.action} refused by auth`,
      );
    }
    return r;
  }

  private async decide(req: AuthRequest): Promise<AuthResult> {
    const c = this.cfg;
    const { action, protocol } = req;
    const why = this.addressRefusal(action, protocol, req.remote);
    if (why) return refuse('ip', 403, why);
    const { app, name } = splitKey(req.key);
    if (simpleAuthApplies(c.simpleAuth, action, protocol)) {
      const v = checkLalSecret(req.query, name, {
        key: c.simpleAuth.key,
        dangerousLalSecret: c.simpleAuth.dangerous_lal_secret,
      });
      if (v !== 'ok') return refuse('lal', v === 'missing' ? 401 : 403, `lal_secret ${v}`);
    }
    if (c.signed.enabled && inScope(c.signed, action, protocol)) {
      const v = verifySignature({
        secrets: c.signed.secrets,
        action,
        key: req.key,
        query: req.query,
        nowS: Math.floor(Date.now() / 1000),
        maxTtlS: c.signed.maxTtlS,
      });
      if (v !== 'ok') return refuse('signed', v === 'missing' ? 401 : 403, `signature ${v}`);
    }
    const url = this.callbackUrl(action, protocol);
    if (url && this.callback) {
      const qs = formatQuery(req.query);
      const a = await this.callback.ask(url, {
        action: action === 'publish' ? 'on_publish' : 'on_play',
        client_id: req.sessionId,
        ip: hostOfRemote(req.remote),
        vhost: '__defaultVhost__',
        app,
        stream: name,
        param: qs ? `?${qs}` : '',
        protocol,
        server_id: this.d.nodeId,
        node_id: this.d.nodeId,
      });
      if (!a.allow) return refuse('callback', 403, a.why);
    }
    return { ok: true };
  }

  private callbackUrl(action: AuthAction, protocol: string): string {
    const cb = this.cfg.callback;
    const url = action === 'publish' ? cb.onPublish : cb.onPlay;
    if (!url) return '';
    const scope: Scope = { actions: [action], protocols: cb.protocols };
    return inScope(scope, action, protocol) ? url : '';
  }
}

const refuse = (mode: AuthMode, status: 401 | 403, why: string): AuthResult => ({
  ok: false,
  mode,
  status,
  why,
});
