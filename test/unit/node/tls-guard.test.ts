import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createServer, type ConnectionOptions, type Server } from 'node:tls';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Counters } from '../../../libs/metrics/counters.ts';
import { classifyTlsFailure, TlsFailure, TlsGuard } from '../../../services/node/tls-guard.ts';
import { makeTestPki, type TestPki } from '../../integration/helpers/tls.ts';

const HANDSHAKE_TIMEOUT_MS = 300;

test('failure codes map to a bounded set of reasons; a peer that went away is no failure', () => {
  const table: [string | undefined, TlsFailure | null][] = [
    ['ERR_SSL_HTTP_REQUEST', TlsFailure.PlainHttp],
    ['ERR_SSL_HTTPS_PROXY_REQUEST', TlsFailure.PlainHttp],
    ['ERR_SSL_WRONG_VERSION_NUMBER', TlsFailure.NotTls],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', TlsFailure.NotTls],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', TlsFailure.Timeout],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', TlsFailure.Handshake],
    ['ERR_SSL_NO_SHARED_CIPHER', TlsFailure.Handshake],
    [undefined, TlsFailure.Handshake],
    ['ECONNRESET', null],
    ['EPIPE', null],
  ];
  for (const [code, reason] of table) assert.equal(classifyTlsFailure(code), reason, String(code));
});

interface Rig {
  server: Server;
  port: number;
  guard: TlsGuard;
  counters: Counters;
  logs: Record<string, unknown>[];
  secure: number;
}

let pki: TestPki;
let rig: Rig;

test.before(async () => {
  pki = await makeTestPki();
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const counters = new Counters();
  const server = createServer({
    cert: readFileSync(pki.serverCert),
    key: readFileSync(pki.serverKey),
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const guard = new TlsGuard(server, { proto: 'rtmps', log, counters });
  const r: Rig = { server, port: 0, guard, counters, logs, secure: 0 };
  server.on('secureConnection', (s) => {
    r.secure++;
    s.on('error', () => {});
    s.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.port = (server.address() as { port: number }).port;
  rig = r;
});

test.after(async () => {
  rig.guard.destroyAll();
  await new Promise<void>((r) => rig.server.close(() => r()));
});

/** Sends `bytes` over plain TCP and resolves when the server closes the connection (bounded). */
function sendPlain(bytes: Buffer | string | null): Promise<{ closedAfterMs: number; received: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let received = 0;
    const s: Socket = tcpConnect(rig.port, '127.0.0.1', () => {
      if (bytes !== null) s.write(bytes);
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the server did not close the connection within 3 s'));
    }, 3000);
    s.on('data', (d: Buffer) => (received += d.length));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: performance.now() - t0, received });
    });
  });
}

const failures = (reason: string): number =>
  rig.counters.get('tls_handshake_failures', { proto: 'rtmps', reason });

const warnings = (reason: string): Record<string, unknown>[] =>
  rig.logs.filter((l) => l.msg === 'tls handshake failed, connection closed' && l.reason === reason);

test('plain RTMP (C0 + C1) on the TLS port is closed, counted as not_tls and logged once', async () => {
  const c0c1 = Buffer.alloc(1537);
  c0c1[0] = 3; // RTMP version
  c0c1.writeUInt32BE(12345, 1); // C1 time; the rest zero and "random"
  const before = failures(TlsFailure.NotTls);
  const r = await sendPlain(c0c1);
  assert.equal(failures(TlsFailure.NotTls), before + 1);
  assert.ok(
    r.closedAfterMs < HANDSHAKE_TIMEOUT_MS,
    `closed at once, not by the timeout (${r.closedAfterMs} ms)`,
  );
  const w = warnings(TlsFailure.NotTls).at(-1);
  assert.ok(w, 'a warning');
  assert.equal(w.level, 40);
  assert.equal(w.component, 'rtmps');
  assert.equal(w.code, 'ERR_SSL_WRONG_VERSION_NUMBER');
  assert.match(String(w.remote), /^127\.0\.0\.1:\d+$/);
  assert.equal(w.err, undefined, 'no OpenSSL error text or stack');
});

test('plain HTTP on the TLS port is closed and counted as plain_http', async () => {
  const before = failures(TlsFailure.PlainHttp);
  await sendPlain('GET /live/test.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  assert.equal(failures(TlsFailure.PlainHttp), before + 1);
  assert.equal(warnings(TlsFailure.PlainHttp).at(-1)?.code, 'ERR_SSL_HTTP_REQUEST');
});

test('a client that says nothing is closed by the handshake timeout and counted', async () => {
  const before = failures(TlsFailure.Timeout);
  const r = await sendPlain(null);
  assert.ok(r.closedAfterMs >= HANDSHAKE_TIMEOUT_MS - 20, `closed at ${r.closedAfterMs} ms`);
  assert.equal(failures(TlsFailure.Timeout), before + 1);
});

test('a TLS client without a common protocol version fails the handshake (reason handshake)', async () => {
  const before = failures(TlsFailure.Handshake);
  await tlsClient({ minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
  assert.equal(failures(TlsFailure.Handshake), before + 1);
});

test('a client that resets mid-handshake is closed without a count or a line', async () => {
  const total = (): number => Object.values(TlsFailure).reduce((n, reason) => n + failures(reason), 0);
  const before = { count: total(), lines: rig.logs.length };
  await new Promise<void>((resolve) => {
    const s = tcpConnect(rig.port, '127.0.0.1', () => {
      s.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello record
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
  await waitUntil(() => rig.guard.size === 0);
  assert.equal(total(), before.count);
  assert.equal(rig.logs.length, before.lines);
});

test('a real TLS client gets through; connections are tracked until they close', async () => {
  const before = rig.secure;
  const got = await tlsClient({ ca: readFileSync(pki.ca) });
  assert.equal(got, 'hello');
  assert.equal(rig.secure, before + 1);
  await waitUntil(() => rig.guard.size === 0);
});

test('destroyAll ends connections still in their handshake', async () => {
  const closed = sendPlain(null);
  await waitUntil(() => rig.guard.size === 1);
  rig.guard.destroyAll();
  const r = await closed;
  assert.ok(r.closedAfterMs < HANDSHAKE_TIMEOUT_MS, `closed by destroyAll (${r.closedAfterMs} ms)`);
});

/** A TLS client to the rig; resolves with what it read (or '' when the handshake failed). */
function tlsClient(opts: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = tlsConnect({ port: rig.port, host: '127.0.0.1', ...opts });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('TLS client still open after 3 s'));
    }, 3000);
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

async function waitUntil(cond: () => boolean): Promise<void> {
  const end = performance.now() + 2000;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
