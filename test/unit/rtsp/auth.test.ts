import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtspAuthenticator, RtspClientAuth, digestResponse } from '../../../libs/rtsp/index.ts';

const CREDS = [
  { username: 'admin', password: 'secret' },
  { username: 'Mufasa', password: 'Circle Of Life' },
];
const URI = 'rtsp://h:5544/live/cam';

function server(
  o: { methods?: ('basic' | 'digest')[]; now?: () => number; nonceTtlMs?: number; maxNonces?: number } = {},
): RtspAuthenticator {
  return new RtspAuthenticator({
    realm: 'sluice',
    methods: o.methods ?? ['digest', 'basic'],
    credentials: CREDS,
    ...o,
  });
}

function nonceOf(challenge: string): string {
  return /nonce="([^"]+)"/.exec(challenge)![1]!;
}

function digestHeader(p: Record<string, string>): string {
  return `Digest ${Object.entries(p)
    .map(([k, v]) => (k === 'nc' || k === 'qop' || k === 'algorithm' ? `${k}=${v}` : `${k}="${v}"`))
    .join(', ')}`;
}

test('digest vectors: RFC 2069 (no qop), RFC 2617 §3.5 (qop=auth), RFC 7616 §3.9.1 (SHA-256)', () => {
  const base = {
    username: 'Mufasa',
    realm: 'testrealm@host.com',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  };
  assert.equal(
    digestResponse({ ...base, algorithm: 'MD5', password: 'CircleOfLife' }),
    '1949323746fe6a43ef61f9606e7febea',
  );
  assert.equal(
    digestResponse({
      ...base,
      algorithm: 'MD5',
      password: 'Circle Of Life',
      qop: { nc: '00000001', cnonce: '0a4f113b' },
    }),
    '6629fae49393a05397450978507c4ef1',
  );
  const r7616 = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: { nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' },
  };
  assert.equal(digestResponse({ ...r7616, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(
    digestResponse({ ...r7616, algorithm: 'SHA-256' }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('auth: challenges', () => {
  const ch = server().challenge();
  assert.equal(ch.length, 2);
  assert.match(ch[0]!, /^Digest realm="sluice", nonce="[0-9a-f]{44}"$/);
  assert.equal(ch[1], 'Basic realm="sluice"');
  assert.match(server({ methods: ['digest'] }).challenge({ stale: true })[0]!, /, stale=TRUE$/);
});

test('auth: Basic ok, wrong, missing, not offered', () => {
  const s = server();
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  assert.equal(s.verify('DESCRIBE', URI, basic('admin', 'secret')), 'ok');
  assert.equal(s.verify('DESCRIBE', URI, basic('admin', 'wrong')), 'denied');
  assert.equal(s.verify('DESCRIBE', URI, basic('nobody', 'secret')), 'denied');
  assert.equal(s.verify('DESCRIBE', URI, undefined), 'missing');
  assert.equal(s.verify('DESCRIBE', URI, ''), 'missing');
  assert.equal(server({ methods: ['digest'] }).verify('DESCRIBE', URI, basic('admin', 'secret')), 'denied');
});

for (const form of ['no qop (ffmpeg, live555)', 'qop=auth'] as const) {
  test(`auth: Digest ${form}`, () => {
    const s = server();
    const nonce = nonceOf(s.challenge()[0]!);
    const header = (password: string, extra: Partial<Record<string, string>> = {}): string => {
      const p = { username: 'admin', realm: 'sluice', nonce, uri: URI, ...extra } as Record<string, string>;
      const qop = form === 'qop=auth' ? { nc: '00000001', cnonce: 'abcdef' } : undefined;
      const response = digestResponse({
        algorithm: 'MD5',
        username: p.username!,
        realm: 'sluice',
        password,
        method: 'SETUP',
        uri: p.uri!,
        nonce: p.nonce!,
        ...(qop && { qop }),
      });
      return digestHeader({ ...p, response, ...(qop && { qop: 'auth', nc: qop.nc, cnonce: qop.cnonce }) });
    };
    assert.equal(s.verify('SETUP', URI, header('secret')), 'ok');
    assert.equal(s.verify('SETUP', URI, header('Secret')), 'denied');
    assert.equal(s.verify('PLAY', URI, header('secret')), 'denied', 'method is part of the digest');
    assert.equal(s.verify('SETUP', URI, header('secret', { realm: 'other' })), 'denied');
    assert.equal(
      s.verify('SETUP', URI, header('secret', { nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' })),
      'denied',
      'never issued',
    );
    const forged = nonce.slice(0, 28) + '0'.repeat(16);
    assert.equal(s.verify('SETUP', URI, header('secret', { nonce: forged })), 'denied', 'forged MAC');
    // uri= spelled with a trailing slash, digest computed over it: the same resource.
    assert.equal(s.verify('SETUP', URI, header('secret', { uri: `${URI}/` })), 'ok');
    assert.equal(s.verify('SETUP', URI, header('secret', { uri: 'rtsp://h:5544/other' })), 'denied');
  });
}

test('auth: expired and evicted nonces are stale; unknown users and wrong passwords are still denied', () => {
  let now = 1_000_000;
  const s = server({ now: () => now, nonceTtlMs: 1000, maxNonces: 2 });
  const sign = (nonce: string, password = 'secret'): string =>
    digestHeader({
      username: 'admin',
      realm: 'sluice',
      nonce,
      uri: URI,
      response: digestResponse({
        algorithm: 'MD5',
        username: 'admin',
        realm: 'sluice',
        password,
        method: 'PLAY',
        uri: URI,
        nonce,
      }),
    });
  const n1 = nonceOf(s.challenge()[0]!);
  assert.equal(s.verify('PLAY', URI, sign(n1)), 'ok');
  now += 1001;
  assert.equal(s.verify('PLAY', URI, sign(n1)), 'stale');
  assert.equal(s.verify('PLAY', URI, sign(n1, 'wrong')), 'denied');
  const n2 = nonceOf(s.challenge()[0]!);
  nonceOf(s.challenge()[0]!);
  nonceOf(s.challenge()[0]!); // n2 evicted (max 2)
  assert.equal(s.verify('PLAY', URI, sign(n2)), 'stale');
});

test('auth: garbage never throws', () => {
  const s = server();
  const garbage = [
    'Digest',
    'Digest ,,,,',
    'Digest username=',
    'Digest username="admin", realm="sluice", nonce="x", uri="y", response="zz"',
    'Digest username="admin", realm="sluice", nonce="x", uri="y", response="0123456789abcdef0123456789abcdef", qop=auth-int',
    'Digest algorithm=SHA-512-256, username="a"',
    'Basic !!!!',
    'Basic',
    'Bearer abc',
    '"\\',
    '\u0000\uffff',
    `Digest ${'a="'.repeat(1000)}`,
    'x'.repeat(20000),
  ];
  for (const g of garbage) assert.equal(s.verify('PLAY', URI, g), 'denied', JSON.stringify(g.slice(0, 40)));
});

test('client auth produces what the server accepts: Digest preferred, qop counted, Basic fallback', () => {
  const s = server();
  const challenges = s.challenge();
  const c = new RtspClientAuth({ username: 'admin', password: 'secret' }, [...challenges].reverse());
  assert.equal(c.scheme, 'digest');
  for (const m of ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY'])
    assert.equal(s.verify(m, URI, c.authorization(m, URI)), 'ok', m);

  // A server that offers qop=auth: nc counts up.
  const nonce = nonceOf(challenges[0]!);
  const q = new RtspClientAuth({ username: 'admin', password: 'secret' }, [
    `Digest realm="sluice", nonce="${nonce}", qop="auth,auth-int", opaque="op"`,
  ]);
  const a1 = q.authorization('SETUP', URI);
  const a2 = q.authorization('PLAY', URI);
  assert.match(a1, /qop=auth, nc=00000001, cnonce="[0-9a-f]{16}", opaque="op"$/);
  assert.match(a2, /nc=00000002/);
  assert.equal(s.verify('SETUP', URI, a1), 'ok');
  assert.equal(s.verify('PLAY', URI, a2), 'ok');

  const basicOnly = server({ methods: ['basic'] });
  const b = new RtspClientAuth({ username: 'admin', password: 'secret' }, basicOnly.challenge());
  assert.equal(b.scheme, 'basic');
  assert.equal(basicOnly.verify('DESCRIBE', URI, b.authorization('DESCRIBE', URI)), 'ok');

  assert.throws(() => new RtspClientAuth(CREDS[0]!, ['Bearer realm="x"']), { code: 'RTSP_BAD_CHALLENGE' });
  assert.throws(() => new RtspClientAuth(CREDS[0]!, ['Digest realm="x", nonce="n", qop="auth-int"']), {
    code: 'RTSP_BAD_CHALLENGE',
  });
});
