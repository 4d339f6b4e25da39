import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { lalSecret } from '../../../../libs/auth/lal-md5.ts';
import { parseQuery } from '../../../../libs/auth/query.ts';
import { signedQuery } from '../../../../libs/auth/signed-url.ts';
import { Metrics } from '../../../../libs/metrics/metrics.ts';
import type { AuthConfig } from '../../../../services/node/auth/auth-config.ts';
import { Authorizer, type AuthRequest } from '../../../../services/node/auth/authorizer.ts';
import { ConfigError } from '../../../../libs/config/load.ts';

const SECRET = 'a-signing-secret-of-some-length';
const bodies: Record<string, unknown>[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push(body);
      const stream = String(body.stream);
      if (stream.startsWith('slow')) return; // never answers
      if (stream.startsWith('boom')) return void res.writeHead(502).end();
      if (stream.startsWith('endless')) {
        // A body that never ends: the client must stop reading at its cap, not wait it out.
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return pump();
      }
      res.writeHead(200).end(stream.startsWith('ok') ? '{"code":0}' : '{"code":403}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function config(over: Partial<{ [K in keyof AuthConfig]: Partial<AuthConfig[K]> }>): AuthConfig {
  const scope = { actions: ['publish', 'play'] as ('publish' | 'play')[], protocols: [] };
  return {
    ip: { allow: [], deny: [], ...scope, ...over.ip },
    signed: { enabled: false, secrets: [], maxTtlS: 0, ...scope, ...over.signed },
    simpleAuth: {
      key: '',
      dangerous_lal_secret: '',
      pub_rtmp_enable: false,
      sub_rtmp_enable: false,
      sub_httpflv_enable: false,
      sub_httpts_enable: false,
      pub_rtsp_enable: false,
      sub_rtsp_enable: false,
      hls_m3u8_enable: false,
      ...over.simpleAuth,
    },
    callback: {
      onPublish: '',
      onPlay: '',
      protocols: [],
      timeoutMs: 1500,
      failOpen: false,
      cacheMs: 5000,
      cacheMaxEntries: 100,
      ...over.callback,
    },
  };
}

const make = (c: AuthConfig): { a: Authorizer; metrics: Metrics } => {
  const metrics = new Metrics();
  return {
    a: new Authorizer(c, { nodeId: 'n1', counters: metrics.counters, log: pino({ level: 'silent' }) }),
    metrics,
  };
};

const req = (over: Partial<AuthRequest> = {}): AuthRequest => ({
  action: 'play',
  key: 'live/x',
  query: {},
  remote: '127.0.0.1:40000',
  protocol: 'rtmp',
  sessionId: 's1',
  ...over,
});

test('addressAllowed: the IP lists alone, in their scope (HLS session tokens)', () => {
  const { a } = make(config({ ip: { deny: ['10.0.0.0/8'], protocols: ['hls'] } }));
  assert.equal(a.addressAllowed('play', 'hls', '10.1.2.3:5'), false);
  assert.equal(a.addressAllowed('play', 'hls', '[::ffff:10.1.2.3]:5'), false);
  assert.equal(a.addressAllowed('play', 'hls', '127.0.0.1:5'), true);
  assert.equal(a.addressAllowed('play', 'rtmp', '10.1.2.3:5'), true, 'out of scope');
  assert.equal(make(config({})).a.addressAllowed('play', 'hls', '10.1.2.3:5'), true, 'no lists');
});

test('ip: deny first, then allow; mapped addresses; scoped to protocols', async () => {
  const { a } = make(
    config({ ip: { deny: ['10.0.0.0/8'], allow: ['127.0.0.0/8', '10.1.0.0/16'], protocols: ['rtmp'] } }),
  );
  assert.equal((await a.check(req())).ok, true);
  assert.equal((await a.check(req({ remote: '::ffff:127.0.0.1:5' }))).ok, true);
  assert.deepEqual(await a.check(req({ remote: '10.1.2.3:5' })), {
    ok: false,
    mode: 'ip',
    status: 403,
    why: 'client address denied',
  });
  assert.equal((await a.check(req({ remote: '192.168.0.1:5' }))).ok, false);
  assert.equal((await a.check(req({ remote: '192.168.0.1:5', protocol: 'hls' }))).ok, true);
  assert.equal(a.covers('play', 'rtmps'), true);
  assert.equal(a.covers('play', 'hls'), false);
});

test('modes combine: every applicable check must pass', async () => {
  const { a, metrics } = make(
    config({
      signed: { enabled: true, secrets: [SECRET], actions: ['play'] },
      simpleAuth: { key: 'k', sub_rtmp_enable: true },
    }),
  );
  const exp = Math.floor(Date.now() / 1000) + 60;
  const signed = parseQuery(signedQuery(SECRET, 'play', 'live/x', exp));
  const lal = { lal_secret: lalSecret('k', 'x') };
  assert.equal((await a.check(req({ query: { ...signed, ...lal } }))).ok, true);
  const noLal = await a.check(req({ query: signed }));
  assert.ok(!noLal.ok && noLal.mode === 'lal' && noLal.status === 401);
  const noSign = await a.check(req({ query: lal }));
  assert.ok(!noSign.ok && noSign.mode === 'signed' && noSign.status === 401);
  // Publish is outside the signed scope and outside lal's (pub_rtmp_enable off).
  assert.equal((await a.check(req({ action: 'publish' }))).ok, true);
  // HTTP-FLV: lal's flag is off, the signature still applies.
  assert.equal((await a.check(req({ protocol: 'ws-flv', query: signed }))).ok, true);
  assert.equal(metrics.counters.get('auth_refused', { proto: 'rtmp', action: 'play', mode: 'lal' }), 1);
  assert.equal(metrics.counters.get('auth_allowed', { proto: 'rtmp', action: 'play' }), 1);
});

test('callback: SRS fields, allow and deny cached, failures never cached, fail-open/closed on timeout', async () => {
  const { a, metrics } = make(config({ callback: { onPlay: `${base}/on_play`, protocols: ['flv'] } }));
  bodies.length = 0;
  const r = req({
    key: 'live/ok1',
    protocol: 'http-flv',
    query: { token: 't1' },
    remote: '[::1]:7',
    sessionId: 'flv-1',
  });
  assert.equal((await a.check(r)).ok, true);
  assert.deepEqual(bodies[0], {
    action: 'on_play',
    client_id: 'flv-1',
    ip: '::1',
    vhost: '__defaultVhost__',
    app: 'live',
    stream: 'ok1',
    param: '?token=t1',
    protocol: 'http-flv',
    server_id: 'n1',
    node_id: 'n1',
  });
  assert.equal((await a.check(r)).ok, true);
  assert.equal(bodies.length, 1, 'the second answer came from the cache');
  assert.equal((await a.check({ ...r, protocol: 'ws-flv' })).ok, true);
  assert.equal(bodies.length, 2, 'another protocol is asked (its answer may differ)');
  bodies.splice(1);
  const denied = req({ key: 'live/no', protocol: 'http-flv' });
  assert.equal((await a.check(denied)).ok, false);
  assert.equal((await a.check(denied)).ok, false);
  assert.equal(bodies.length, 2, 'refusals are cached too');
  // Out of scope (rtmp) or no URL (publish): not asked.
  assert.equal((await a.check(req({ key: 'live/no' }))).ok, true);
  assert.equal((await a.check(req({ key: 'live/no', action: 'publish', protocol: 'http-flv' }))).ok, true);
  const t0 = performance.now();
  const slow = await a.check(req({ key: 'live/slow', protocol: 'http-flv' }));
  assert.ok(!slow.ok && slow.mode === 'callback' && /timed out/.test(slow.why));
  assert.ok(performance.now() - t0 < 4000);
  assert.equal((await a.check(req({ key: 'live/boom', protocol: 'http-flv' }))).ok, false);
  assert.equal((await a.check(req({ key: 'live/boom', protocol: 'http-flv' }))).ok, false);
  assert.equal(bodies.filter((b) => b.stream === 'boom').length, 2, 'failures are not cached');
  assert.equal(metrics.counters.get('auth_callback_failures', { reason: 'timeout' }), 1);

  const open = make(config({ callback: { onPlay: `${base}/on_play`, failOpen: true } })).a;
  assert.equal((await open.check(req({ key: 'live/slow' }))).ok, true);
  assert.equal((await open.check(req({ key: 'live/boom' }))).ok, true);
  assert.equal((await open.check(req({ key: 'live/no' }))).ok, false, 'fail-open never overrides a refusal');
});

test('callback: an endless answer body is read up to its cap, then refused (not waited out)', async () => {
  const { a, metrics } = make(config({ callback: { onPlay: `${base}/on_play`, timeoutMs: 3000 } }));
  const t0 = performance.now();
  const r = await a.check(req({ key: 'live/endless' }));
  assert.equal(r.ok, false);
  assert.ok(performance.now() - t0 < 2000, `answered after ${Math.round(performance.now() - t0)} ms`);
  assert.equal(metrics.counters.get('auth_callback_failures', { reason: 'timeout' }), 0);
});

test('config errors: bad CIDR, signed without secrets, lal without key', () => {
  assert.throws(() => make(config({ ip: { deny: ['10.0.0.0/40'] } })), ConfigError);
  assert.throws(() => make(config({ signed: { enabled: true } })), ConfigError);
  assert.throws(() => make(config({ simpleAuth: { hls_m3u8_enable: true } })), ConfigError);
});
