import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { parseVideoTag } from '../../libs/flv/index.ts';
import { killCliProcs, LOOPBACK, runCli } from './helpers/cli.ts';
import { httpFlv, wsFlv, type FlvCollector } from './helpers/flv-client.ts';
import {
  firstTimestampRegression,
  makeTestFlv,
  probe,
  publish,
  tlsVerifyArgs,
  type Child,
} from './helpers/media.ts';
import { counter, LogLevel, portOf, RawConn, seededBytes } from './helpers/net.ts';
import { getJson, startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';

// RTMPS, HTTPS and WSS next to the plain listeners: real ffmpeg/ffprobe and ws clients that
// verify the server against a throwaway CA, on the same stream as plain viewers.

const SPEC = { durationS: 4, width: 320, height: 240, fps: 25, gop: 25 };
const KEY = 'live/tls';
const TLS_LISTEN = { SLUICE_RTMPS_LISTEN: '127.0.0.1:0', SLUICE_HTTPS_LISTEN: '127.0.0.1:0' };

let pki: TestPki;
let ca: Buffer;
let media: string;
let server: SluiceProcess;
const children: Child[] = [];
const viewers: FlvCollector[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));

const tlsConfig = (p: TestPki): object => ({
  rtmps: { enabled: true, certFile: p.serverCert, keyFile: p.serverKey },
  https: { enabled: true, certFile: p.serverCert, keyFile: p.serverKey },
});

before(async () => {
  pki = await makeTestPki();
  ca = readFileSync(pki.ca);
  media = await makeTestFlv(SPEC);
  server = await startSluice({ ...TEST_CONFIG, ...tlsConfig(pki) }, TLS_LISTEN);
});

after(async () => {
  for (const v of viewers) v.stop();
  killCliProcs();
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop('SIGKILL');
});

interface StreamList {
  streams: { key: string; subscribers: number; publisher: { id: string } | null }[];
}

const streamInfo = async (key: string): Promise<StreamList['streams'][number] | undefined> =>
  (await getJson<StreamList>(`${server.api}/api/v1/streams`)).streams.find((s) => s.key === key);

/** The value of a gauge sample (0 when absent). */
const gauge = (name: string, labels: Record<string, string>): Promise<number> =>
  counter(server.api, name, labels);

test('ffmpeg publishes over RTMPS; RTMPS, HTTPS, WSS and plain viewers play the same stream at once', async () => {
  assert.ok(server.rtmps && server.https && server.wss, 'the TLS listeners are listed at startup');
  const pub = publish(media, `${server.rtmps}/${KEY}`, { loop: true, outputArgs: tlsVerifyArgs(pki.ca) });
  children.push(pub);
  const info = await waitFor(
    async () => (await streamInfo(KEY))?.publisher,
    8000,
    `publisher (${pub.stderr()})`,
  );
  assert.match(info.id, /^rtmps-/, 'the publish session came in on RTMPS');

  // WebSocket viewers, TLS and plain, stay attached while the probes run.
  const wss = wsFlv(`${server.wss}/${KEY}.flv`, { ca });
  const ws = wsFlv(`${server.ws}/${KEY}.flv`);
  viewers.push(wss, ws);
  await waitFor(
    () => wss.videoFrames().length >= 5 && ws.videoFrames().length >= 5,
    5000,
    'ws and wss frames',
  );
  assert.equal(await gauge('sluice_viewers', { protocol: 'wss-flv' }), 1);
  assert.equal(await gauge('sluice_connections', { protocol: 'wss' }), 1);
  assert.equal(await gauge('sluice_viewers', { protocol: 'ws-flv' }), 1);

  const verify = tlsVerifyArgs(pki.ca);
  const targets = [
    { name: 'rtmps', url: `${server.rtmps}/${KEY}`, inputArgs: verify },
    { name: 'https-flv', url: `${server.https}/${KEY}.flv`, inputArgs: verify },
    { name: 'rtmp', url: `${server.rtmp}/${KEY}`, inputArgs: [] },
    { name: 'http-flv', url: `${server.http}/${KEY}.flv`, inputArgs: [] },
  ];
  const results = await Promise.all(
    targets.map((t) => probe(t.url, { packets: true, readSeconds: 2, inputArgs: t.inputArgs })),
  );
  results.forEach((p, i) => {
    const name = targets[i]!.name;
    const v = p.streams.find((s) => s.codec_type === 'video');
    const a = p.streams.find((s) => s.codec_type === 'audio');
    assert.equal(v?.codec_name, 'h264', `${name}: video`);
    assert.equal(v?.width, SPEC.width, `${name}: width`);
    assert.equal(a?.codec_name, 'aac', `${name}: audio`);
    const video = p.packets.filter((x) => x.stream_index === v!.index);
    assert.ok(video.length >= 25, `${name}: ${video.length} video packets in 2 s`);
    assert.ok(video[0]!.flags.startsWith('K'), `${name}: starts on a key frame`);
    assert.equal(firstTimestampRegression(p.packets), null, `${name}: timestamps`);
  });

  // WSS: the same FLV as plain WS, tag for tag from the first key frame.
  for (const [name, c] of [
    ['wss', wss],
    ['ws', ws],
  ] as const) {
    assert.equal(c.status, 101, `${name}: upgraded`);
    assert.equal(
      parseVideoTag(c.videoTags()[0]!.body).isSequenceHeader,
      true,
      `${name}: sequence header first`,
    );
    assert.equal(c.videoFrames()[0]?.key, true, `${name}: key frame first`);
    assert.equal(c.timestampRegression(), null, `${name}: timestamps`);
    assert.equal(c.closed, false, `${name}: still playing`);
  }
  const wsFile = join(dir, 'wss.flv');
  writeFileSync(wsFile, Buffer.concat(wss.chunks));
  const p = await probe(wsFile);
  assert.deepEqual(p.streams.map((s) => [s.codec_type, s.codec_name, s.width ?? null]).sort(), [
    ['audio', 'aac', null],
    ['video', 'h264', SPEC.width],
  ]);
  wss.stop();
  ws.stop();

  // HTTPS answers as HTTP does: the FLV content type and CORS, 404 for what is not a media path.
  const flv = httpFlv(`${server.https}/${KEY}.flv`, { ca });
  viewers.push(flv);
  await waitFor(() => flv.videoFrames().length > 0, 5000, 'https-flv frames');
  assert.equal(flv.status, 200);
  assert.equal(flv.headers['content-type'], 'video/x-flv');
  assert.equal(flv.headers['access-control-allow-origin'], '*');
  flv.stop();
  const notFound = await httpsGet(`${server.https}/${KEY}.txt`);
  assert.deepEqual(notFound, { status: 404, body: 'not found\n' });

  // Sessions are labelled by the listener they came in on.
  for (const proto of ['rtmps', 'https-flv', 'wss-flv', 'rtmp', 'http-flv', 'ws-flv']) {
    assert.ok(
      (await counter(server.api, 'sluice_play_started_total', { proto })) >= 1,
      `play_started{proto=${proto}}`,
    );
  }
  assert.ok((await counter(server.api, 'sluice_connections_accepted_total', { proto: 'rtmps' })) >= 2);
  assert.equal(pub.proc.exitCode, null, `publisher still running: ${pub.stderr()}`);
});

/** A GET over HTTPS trusting the test CA: status and body. */
function httpsGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

test('one publisher per key across RTMP and RTMPS: a plain publisher of the RTMPS key is refused', async () => {
  assert.ok((await streamInfo(KEY))?.publisher, 'the RTMPS publisher of the first test is live');
  const before = await counter(server.api, 'sluice_publish_refused_total', { reason: 'in_use' });
  const second = publish(media, `${server.rtmp}/${KEY}`);
  children.push(second);
  const rc = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
  assert.notEqual(rc, 'timeout', 'refused promptly');
  assert.notEqual(rc, 0, 'the second publisher fails');
  assert.equal(await counter(server.api, 'sluice_publish_refused_total', { reason: 'in_use' }), before + 1);
  assert.match((await streamInfo(KEY))!.publisher!.id, /^rtmps-/, 'the RTMPS publisher keeps the key');
});

test('plain RTMP and plain HTTP sent to the TLS ports are closed at once, logged and counted; silence times out', async () => {
  const failures = (proto: string, reason: string): Promise<number> =>
    counter(server.api, 'sluice_tls_handshake_failures_total', { proto, reason });
  const before = {
    rtmps: await failures('rtmps', 'not_tls'),
    https: await failures('https', 'plain_http'),
    timeout: await failures('rtmps', 'timeout'),
  };

  // An RTMP client's C0 + C1 to the RTMPS port.
  const rtmp = await RawConn.open(portOf(server.rtmps!));
  rtmp.write(Buffer.concat([Buffer.from([3]), seededBytes(1, 1536)]));
  const http = await RawConn.open(portOf(server.https!));
  http.write(`GET /${KEY}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const silent = await RawConn.open(portOf(server.rtmps!));
  await rtmp.waitClosed(1000);
  await http.waitClosed(1000);
  assert.equal(rtmp.received().length, 0, 'nothing answered to plain RTMP');

  await waitFor(async () => (await failures('rtmps', 'not_tls')) === before.rtmps + 1, 2000, 'rtmps not_tls');
  assert.equal(await failures('https', 'plain_http'), before.https + 1);
  for (const [conn, proto, reason, code] of [
    [rtmp, 'rtmps', 'not_tls', 'ERR_SSL_WRONG_VERSION_NUMBER'],
    [http, 'https', 'plain_http', 'ERR_SSL_HTTP_REQUEST'],
  ] as const) {
    const lines = server.logs.filter((l) => l.remote === conn.remote);
    assert.equal(lines.length, 1, `one line for ${proto}: ${JSON.stringify(lines)}`);
    assert.equal(lines[0]!.level, LogLevel.warn);
    assert.equal(lines[0]!.component, proto);
    assert.equal(lines[0]!.reason, reason);
    assert.equal(lines[0]!.code, code);
  }

  // limits.handshakeTimeoutMs (2 s in tests) bounds the TLS handshake.
  const closedAt = await silent.waitClosed(4000);
  const heldMs = closedAt - silent.openedAt;
  assert.ok(heldMs >= 1800 && heldMs < 3500, `silent TLS client closed after ${heldMs} ms`);
  await waitFor(
    async () => (await failures('rtmps', 'timeout')) === before.timeout + 1,
    2000,
    'timeout count',
  );

  // The node is fine: a TLS viewer still plays.
  const p = await probe(`${server.rtmps}/${KEY}`, { readSeconds: 1, inputArgs: tlsVerifyArgs(pki.ca) });
  assert.ok(p.streams.some((s) => s.codec_name === 'h264'));
  await waitFor(
    async () => (await gauge('sluice_connections', { protocol: 'rtmps' })) === 1,
    2000,
    'only the publisher left on RTMPS (every refused or timed-out connection gave its slot back)',
  );
});

test('no secret reaches the logs: neither key material nor OpenSSL error text', () => {
  const keyLines = readFileSync(pki.serverKey, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));
  const text = server.logs.map((l) => JSON.stringify(l)).join('\n');
  for (const line of keyLines) assert.ok(!text.includes(line), 'a line of the private key was logged');
  assert.doesNotMatch(text, /PRIVATE KEY|ssl3_get_record|openssl/i);
});

test('a missing certificate file or a garbage key fails startup, naming the key and the file', async (t) => {
  const garbage = join(dir, 'garbage-key.pem');
  writeFileSync(garbage, 'this is not a key\n');
  const missing = join(dir, 'no-such-cert.pem');
  const cases = [
    {
      name: 'rtmps: missing certificate',
      config: { rtmps: { enabled: true, certFile: missing, keyFile: pki.serverKey } },
      message: `rtmps.certFile: cannot read ${missing} (ENOENT)`,
    },
    {
      name: 'https: garbage key',
      config: { https: { enabled: true, certFile: pki.serverCert, keyFile: garbage } },
      message: `https.keyFile: ${garbage} is not an unencrypted PEM private key`,
    },
  ];
  for (const k of cases) {
    const file = join(dir, `${k.name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(k.config));
    for (const extra of [[], ['--check-config']]) {
      await t.test(`${k.name} ${extra.join(' ')}`, async () => {
        const r = await runCli(['standalone', '--config', file, ...extra], { ...LOOPBACK, ...TLS_LISTEN });
        assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
        assert.ok(r.stderr.includes(k.message), `stderr names the key and file:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
        assert.equal(r.stdout, '', 'nothing started');
      });
    }
  }
  // The same files with the listener off: not read, the node starts (--check-config says OK).
  const off = join(dir, 'off.json');
  writeFileSync(off, JSON.stringify({ https: { enabled: false, certFile: missing, keyFile: garbage } }));
  const r = await runCli(['standalone', '--config', off, '--check-config'], LOOPBACK);
  assert.equal(r.code, 0, r.stderr);
});

test('SIGTERM ends TLS sessions and connections stuck in their handshake, and exits 0 promptly', async () => {
  // The default 10 s handshake timeout: a connection left in its handshake would hold the close.
  const node = await startSluice({ ...tlsConfig(pki), stream: { waitPublisherMs: 30_000 } }, TLS_LISTEN);
  try {
    const waiting = wsFlv(`${node.wss}/live/none.flv`, { ca });
    viewers.push(waiting);
    const stuck = await RawConn.open(portOf(node.rtmps!));
    const stuckHttps = await RawConn.open(portOf(node.https!));
    const tlsUp = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: portOf(node.rtmps!), ca }, () => resolve(true));
      s.on('error', () => resolve(false));
    });
    assert.ok(tlsUp, 'a verified TLS connection to RTMPS');
    await waitFor(
      async () => (await counter(node.api, 'sluice_connections', { protocol: 'rtmps' })) === 2,
      3000,
      'two rtmps connections',
    );
    const t0 = Date.now();
    const code = await node.stop('SIGTERM');
    const tookMs = Date.now() - t0;
    assert.equal(code, 0, 'exit code');
    assert.ok(tookMs < 4000, `exited after ${tookMs} ms (drain 1 s)`);
    await stuck.waitClosed(1000);
    await stuckHttps.waitClosed(1000);
    await waiting.whenClosed();
  } finally {
    await node.stop('SIGKILL');
  }
});
