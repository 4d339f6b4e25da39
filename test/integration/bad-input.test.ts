import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../libs/rtmp/message-types.ts';
import { httpFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import {
  counter,
  fmt0Header,
  LogLevel,
  logsOf,
  metrics,
  portOf,
  rawHttp,
  RawConn,
  rtmpErrors,
  RtmpTestClient,
  seededBytes,
} from './helpers/net.ts';
import { getJson, inputHeld, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// One server takes every kind of bad input while a real publisher and a real viewer use it;
// the last test checks that the good session never noticed.

const FPS = 25;
const SPEC = { durationS: 4, width: 320, height: 180, fps: FPS, gop: FPS, videoKbps: 300 };
/** Bad sessions must be closed this fast once the server has seen the offending bytes. */
const CLOSE_MS = 1000;

let server: SluiceProcess;
let publisher: Child;
let viewer: FlvCollector;
let rtmpPort: number;
let httpPort: number;
const clients: { destroy(): void }[] = [];

before(async () => {
  const media = await makeTestFlv(SPEC);
  server = await startSluice({
    log: { level: 'info' },
    stream: { waitPublisherMs: 8000 },
    // Long enough that a session closed within CLOSE_MS was closed by its bad input, not a timer.
    limits: { handshakeTimeoutMs: 5000, idleTimeoutMs: 5000 },
  });
  rtmpPort = portOf(server.rtmp);
  httpPort = portOf(server.http);
  publisher = publish(media, `${server.rtmp}/live/ok`, { loop: true });
  viewer = httpFlv(`${server.http}/live/ok.flv`);
  await waitFor(
    () => viewer.videoFrames().length > FPS,
    10_000,
    'the good viewer to receive a second of video',
  );
});

after(async () => {
  for (const c of clients) c.destroy();
  viewer?.stop();
  await publisher?.kill();
  await server?.stop();
});

async function rawRtmp(): Promise<RawConn> {
  const c = await RawConn.open(rtmpPort);
  clients.push(c);
  return c;
}

async function rtmpReady(): Promise<RtmpTestClient> {
  const c = await RtmpTestClient.ready(rtmpPort);
  clients.push(c);
  return c;
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

/** Asserts the server closes `conn` within CLOSE_MS of `since` and counts `code` once. */
async function assertClosedWith(conn: RawConn, code: string, was: number, since: number): Promise<void> {
  const closedAt = await conn.waitClosed(CLOSE_MS + 500);
  assert.ok(closedAt - since <= CLOSE_MS, `closed after ${closedAt - since} ms`);
  await waitFor(async () => (await rtmpErrors(server.api, code)) === was + 1, 2000, `${code} counted once`);
}

test('an HTTP request on the RTMP port is refused on its first byte, counted and logged once', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_BAD_VERSION');
  const c = await rawRtmp();
  const t0 = Date.now();
  c.write('GET / HTTP/1.1\r\n\r\n');
  await assertClosedWith(c, 'RTMP_BAD_VERSION', before, t0);
  assert.equal(c.received().length, 0, 'no S0/S1 is sent for a bad C0');
  const warns = await waitFor(
    () => {
      const w = logsOf(server.logs, c.remote).filter((l) => (l.level as number) >= LogLevel.warn);
      return w.length > 0 ? w : null;
    },
    2000,
    'the warn line',
  );
  await sleep(200); // a duplicate line would have arrived by now
  const all = logsOf(server.logs, c.remote).filter((l) => (l.level as number) >= LogLevel.warn);
  assert.equal(all.length, 1, `one warn line, got ${JSON.stringify(all)}`);
  assert.equal(warns[0]!.code, 'RTMP_BAD_VERSION');
});

test('garbage after a valid handshake closes the session with a protocol error', async () => {
  const errorsOf = async (): Promise<number> =>
    (await metrics(server.api))
      .filter(
        (s) =>
          s.name === 'sluice_protocol_errors_total' &&
          s.labels.proto === 'rtmp' &&
          !/TIMEOUT/.test(s.labels.code ?? ''),
      )
      .reduce((a, s) => a + s.value, 0);
  for (const seed of [1, 2, 3, 4]) {
    const before = await errorsOf();
    const c = await rtmpReady();
    const t0 = Date.now();
    // Fed in pieces, as TCP would deliver it.
    const junk = seededBytes(seed, 64 * 1024);
    for (let i = 0; i < junk.length && !c.closed; i += 4096) {
      c.sendRaw(junk.subarray(i, i + 4096));
      await sleep(5);
    }
    const closedAt = await c.conn.waitClosed(CLOSE_MS + 500);
    assert.ok(closedAt - t0 <= CLOSE_MS, `seed ${seed}: closed after ${closedAt - t0} ms`);
    await waitFor(
      async () => (await errorsOf()) === before + 1,
      2000,
      `seed ${seed}: one protocol error counted`,
    );
  }
});

test('a fmt 1 chunk header on a fresh chunk stream is RTMP_CHUNK_NO_PREVIOUS_HEADER', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_CHUNK_NO_PREVIOUS_HEADER');
  const c = await rtmpReady();
  const t0 = Date.now();
  // fmt 1 (0x40) on csid 5: timestamp delta 0, length 4, type 9; RTMP spec §5.3.1.2.2.
  c.sendRaw(Buffer.from([0x45, 0, 0, 0, 0, 0, 4, 9, 1, 2, 3, 4]));
  await assertClosedWith(c.conn, 'RTMP_CHUNK_NO_PREVIOUS_HEADER', before, t0);
});

test('a header declaring the largest message reserves what arrived, not its length; a larger one is refused at once', async (t) => {
  const before = await rtmpErrors(server.api, 'RTMP_MESSAGE_TOO_LARGE');
  const base = await inputHeld(server.api);
  const c = await rtmpReady();
  // The first 128-byte chunk of an 8 MiB message (rtmp.maxMessageBytes), then a ping: once it is
  // answered the server has read the chunk.
  c.sendRaw(Buffer.concat([fmt0Header(6, 8 * 1024 * 1024, MessageType.Video, 1), Buffer.alloc(128, 1)]));
  await c.ping();
  const held = (await inputHeld(server.api)) - base;
  t.diagnostic(`${held} bytes reserved for 128 bytes of a declared 8 MiB message`);
  assert.ok(held >= 128 && held < 4096, `${held} bytes reserved`);
  const t0 = Date.now();
  c.sendRaw(fmt0Header(7, 0xffffff, MessageType.Video, 1));
  await assertClosedWith(c.conn, 'RTMP_MESSAGE_TOO_LARGE', before, t0);
  await waitFor(async () => (await inputHeld(server.api)) <= base, 2000, 'the reservation released');
});

test('partial messages are refused once what arrived passes the limit; declared lengths reserve nothing', async (t) => {
  const before = await rtmpErrors(server.api, 'RTMP_BUFFER_LIMIT');
  const base = await inputHeld(server.api);
  const MiB = 1024 * 1024;
  const c = await rtmpReady();
  // The first 128-byte chunks of three 8 MiB messages: 24 MiB declared, over the 16 MiB limit.
  const csids = [3, 4, 5];
  c.sendRaw(
    Buffer.concat(
      csids.flatMap((cs) => [fmt0Header(cs, 8 * MiB, MessageType.Video, 1), Buffer.alloc(128, cs)]),
    ),
  );
  await c.ping();
  const headersHeld = (await inputHeld(server.api)) - base;
  assert.ok(headersHeld >= 3 * 128 && headersHeld < 4096, `${headersHeld} bytes reserved for 384 received`);
  // Then 1 MiB continuation chunks of the three messages in turn, until the server refuses.
  c.send({ csid: 2, typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: u32(MiB) });
  const chunkOf = (cs: number): Buffer => Buffer.concat([Buffer.of(0xc0 | cs), Buffer.alloc(MiB, cs)]);
  let sent = 3 * 128;
  let heldAt10 = 0;
  let sentAt10 = 0;
  for (let i = 0; i < 18 && !c.closed; i++) {
    c.sendRaw(chunkOf(csids[i % 3]!));
    sent += MiB;
    if (sent > 10 * MiB && heldAt10 === 0) {
      await c.ping();
      heldAt10 = (await inputHeld(server.api)) - base;
      sentAt10 = sent;
    }
    await sleep(5);
  }
  const closedAt = await c.conn.waitClosed(CLOSE_MS + 500);
  await waitFor(
    async () => (await rtmpErrors(server.api, 'RTMP_BUFFER_LIMIT')) === before + 1,
    2000,
    'RTMP_BUFFER_LIMIT counted once',
  );
  t.diagnostic(
    `${headersHeld} bytes reserved for the headers; ${heldAt10} after ${sentAt10} bytes; closed after ${sent} bytes sent, ${closedAt - c.conn.openedAt} ms after connecting`,
  );
  assert.ok(heldAt10 >= 10 * MiB && heldAt10 <= 16 * MiB, `${heldAt10} bytes reserved after 10 MiB arrived`);
  await waitFor(async () => (await inputHeld(server.api)) <= base, 2000, 'the reservation released');
});

test('a partial message on a 65th chunk stream is refused; each reserves what arrived', async (t) => {
  const before = await rtmpErrors(server.api, 'RTMP_TOO_MANY_CHUNK_STREAMS');
  const base = await inputHeld(server.api);
  const c = await rtmpReady();
  // One 128-byte chunk of a 100 kB message on each of 63 chunk streams (6.3 MB declared), and
  // csid 2 for pings: 64 chunk streams with state.
  const first = (cs: number): Buffer[] => [
    fmt0Header(cs, 100_000, MessageType.Video, 1),
    Buffer.alloc(128, cs),
  ];
  c.sendRaw(Buffer.concat(Array.from({ length: 63 }, (_, i) => first(3 + i)).flat()));
  await c.ping();
  const held = (await inputHeld(server.api)) - base;
  t.diagnostic(`${held} bytes reserved for 63 x 128 bytes received`);
  assert.ok(held >= 63 * 128 && held < 63 * 1024, `${held} bytes reserved`);
  const t0 = Date.now();
  c.sendRaw(Buffer.concat(first(3 + 63)));
  await assertClosedWith(c.conn, 'RTMP_TOO_MANY_CHUNK_STREAMS', before, t0);
  await waitFor(async () => (await inputHeld(server.api)) <= base, 2000, 'the reservations released');
});

test('a Set Chunk Size of 0 or with the high bit set is RTMP_BAD_CHUNK_SIZE', async (t) => {
  for (const size of [0, 0x80000000, 0xffffffff]) {
    await t.test(`size 0x${size.toString(16)}`, async () => {
      const before = await rtmpErrors(server.api, 'RTMP_BAD_CHUNK_SIZE');
      const c = await rtmpReady();
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(size);
      const t0 = Date.now();
      c.send({ csid: 2, typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload });
      await assertClosedWith(c.conn, 'RTMP_BAD_CHUNK_SIZE', before, t0);
    });
  }
});

test('a command before connect closes the session', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_COMMAND_BEFORE_CONNECT');
  const c = await rtmpReady();
  const t0 = Date.now();
  c.command('createStream', null);
  await assertClosedWith(c.conn, 'RTMP_COMMAND_BEFORE_CONNECT', before, t0);
  assert.equal(c.commands.length, 0, 'nothing is answered before connect');
});

test('publish or play of an invalid stream name is refused with an error status and closed', async (t) => {
  const cases = [
    {
      kind: 'play',
      app: 'live',
      name: '../../etc/passwd',
      code: 'RTMP_BAD_STREAM_NAME',
      status: 'NetStream.Play.StreamNotFound',
    },
    {
      kind: 'play',
      app: 'live',
      name: '',
      code: 'RTMP_BAD_STREAM_NAME',
      status: 'NetStream.Play.StreamNotFound',
    },
    {
      kind: 'play',
      app: '../..',
      name: 'passwd',
      code: 'RTMP_BAD_APP',
      status: 'NetStream.Play.StreamNotFound',
    },
    {
      kind: 'play',
      app: 'live',
      name: 'a/b',
      code: 'RTMP_BAD_STREAM_NAME',
      status: 'NetStream.Play.StreamNotFound',
    },
    {
      kind: 'publish',
      app: 'live',
      name: '..',
      code: 'RTMP_BAD_STREAM_NAME',
      status: 'NetStream.Publish.BadName',
    },
    {
      kind: 'publish',
      app: 'live',
      name: '',
      code: 'RTMP_BAD_STREAM_NAME',
      status: 'NetStream.Publish.BadName',
    },
  ];
  for (const k of cases) {
    await t.test(`${k.kind} ${JSON.stringify(k.app)} ${JSON.stringify(k.name)}`, async () => {
      const before = await rtmpErrors(server.api, k.code);
      const c = await rtmpReady();
      const res = await c.connect(k.app);
      assert.equal(res.name, '_result');
      const sid = await c.createStream();
      const t0 = Date.now();
      c.command(k.kind, null, k.kind === 'play' ? [k.name, -2000] : [k.name, 'live'], sid);
      await assertClosedWith(c.conn, k.code, before, t0);
      const st = c.statuses();
      assert.equal(st.length, 1, `one onStatus, got ${JSON.stringify(st)}`);
      assert.equal(st[0]!.level, 'error');
      assert.equal(st[0]!.code, k.status);
    });
  }
  assert.equal((await getJson(`${server.api}/healthz`)).status, 'ok');
});

test('a second publisher of the live stream is refused and the first keeps the stream', async () => {
  const before = await counter(server.api, 'sluice_publish_refused_total', { reason: 'in_use' });
  const c = await rtmpReady();
  await c.connect('live');
  const sid = await c.createStream();
  c.command('publish', null, ['ok', 'live'], sid);
  const st = await c.waitStatus('NetStream.Publish.BadName', 2000);
  assert.equal(st.level, 'error');
  await c.conn.waitClosed(CLOSE_MS);
  assert.equal(await counter(server.api, 'sluice_publish_refused_total', { reason: 'in_use' }), before + 1);
  const frames = viewer.videoFrames().length;
  await waitFor(() => viewer.videoFrames().length > frames + 5, 2000, 'the good viewer to keep receiving');
});

test('media before publish is RTMP_MEDIA_WITHOUT_PUBLISH', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_MEDIA_WITHOUT_PUBLISH');
  const c = await rtmpReady();
  await c.connect('live');
  const t0 = Date.now();
  // An AVC key frame NAL unit packet (FLV video tag header, E.4.3.1).
  c.send({
    csid: 6,
    typeId: MessageType.Video,
    streamId: 1,
    timestamp: 0,
    payload: Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]),
  });
  await assertClosedWith(c.conn, 'RTMP_MEDIA_WITHOUT_PUBLISH', before, t0);
});

test('hostile HTTP requests get clean error responses', async (t) => {
  const httpErrors = (): Promise<number> =>
    counter(server.api, 'sluice_protocol_errors_total', { proto: 'http' });
  const [errorsBefore, notFoundBefore] = await Promise.all([
    httpErrors(),
    counter(server.api, 'sluice_http_not_found_total'),
  ]);
  const get = (path: string, extra = ''): string =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;
  const upgrade = (path: string): string =>
    get(
      path,
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    ).replace('Connection: close\r\n', '');
  const cases: { name: string; req: string; status: number; headers?: Record<string, string> }[] = [
    { name: 'path traversal', req: get('/../../etc/passwd.flv'), status: 404 },
    { name: 'traversal inside the app', req: get('/live/../../../etc/passwd.flv'), status: 404 },
    { name: 'bad percent-encoding', req: get('/live/%ZZ.flv'), status: 404 },
    { name: 'encoded traversal', req: get('/%2e%2e/%2e%2e/etc/passwd.flv'), status: 404 },
    { name: 'dot segments after the name', req: get('/live/a.flv/../x'), status: 404 },
    { name: 'no extension', req: get('/nofile'), status: 404 },
    { name: 'not a media path', req: get('/'), status: 404 },
    { name: '20 KB header', req: get('/live/ok.flv', `X-Big: ${'a'.repeat(20 * 1024)}\r\n`), status: 431 },
    {
      name: 'POST',
      req: 'POST /live/ok.flv HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
      status: 405,
    },
    {
      name: 'OPTIONS (CORS preflight)',
      req: 'OPTIONS /live/ok.flv HTTP/1.1\r\nHost: x\r\nOrigin: http://example.com\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
      status: 204,
      headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS' },
    },
    { name: 'WebSocket upgrade to a non-.flv path', req: upgrade('/live/ok.m3u8'), status: 404 },
    { name: 'WebSocket upgrade to a bad path', req: upgrade('/../etc/passwd.flv'), status: 404 },
  ];
  for (const k of cases) {
    await t.test(
      k.name,

      async () => {
        const res = await rawHttp(httpPort, k.req);
        assert.equal(res.status, k.status, `response: ${JSON.stringify(res.raw.slice(0, 200))}`);
        for (const [h, v] of Object.entries(k.headers ?? {})) assert.equal(res.headers[h], v, h);
        assert.ok(!/root:|passwd/.test(res.body), 'no file content');
      },
    );
  }
  await t.test('random bytes get 400 or a close', async () => {
    const res = await rawHttp(httpPort, seededBytes(7, 4096));
    assert.ok(res.closed, 'connection closed');
    assert.ok(res.status === 400 || res.status === 0, `status ${res.status}`);
  });
  assert.equal((await getJson(`${server.api}/healthz`)).status, 'ok');
  // 7 paths + 2 upgrades are not found; the oversized header and the junk are protocol errors.
  assert.equal(await counter(server.api, 'sluice_http_not_found_total'), notFoundBefore + 9);
  assert.equal(await httpErrors(), errorsBefore + 2);
});

test('a 4 s storm of bad sessions, 8 at a time, is refused session by session', async (t) => {
  const rtmpErrorTotal = async (): Promise<number> =>
    counter(server.api, 'sluice_protocol_errors_total', { proto: 'rtmp' });
  const bad: (() => Promise<void>)[] = [
    async () => {
      const c = await rawRtmp();
      c.write('GET / HTTP/1.1\r\n\r\n');
      await c.waitClosed(CLOSE_MS);
    },
    async () => {
      const c = await rtmpReady();
      c.sendRaw(fmt0Header(6, 0xffffff, MessageType.Video, 1));
      await c.conn.waitClosed(CLOSE_MS);
    },
    async () => {
      const c = await rtmpReady();
      c.sendRaw(Buffer.from([0x45, 0, 0, 0, 0, 0, 4, 9, 1, 2, 3, 4]));
      await c.conn.waitClosed(CLOSE_MS);
    },
    async () => {
      const c = await rtmpReady();
      c.command('play', null, ['x']);
      await c.conn.waitClosed(CLOSE_MS);
    },
  ];
  const before = await rtmpErrorTotal();
  const end = Date.now() + 4000;
  let n = 0;
  while (Date.now() < end) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => bad[(n + i) % bad.length]!()));
    n += 8;
    clients.splice(0).forEach((c) => c.destroy());
  }
  await waitFor(async () => (await rtmpErrorTotal()) === before + n, 3000, `${n} protocol errors counted`);
  t.diagnostic(`${n} bad sessions`);
  assert.ok(n >= 40, `only ${n} bad sessions in 4 s`);
});

test('the good publisher and viewer never noticed, and the server is alive', async (t) => {
  await sleep(500);
  assert.equal(viewer.closed, false, `viewer was disconnected: ${viewer.error?.message ?? ''}`);
  assert.equal(publisher.proc.exitCode, null, `publisher exited: ${publisher.stderr()}`);
  assert.equal(server.proc.exitCode, null, 'server exited');
  process.kill(server.pid, 0);
  assert.equal((await getJson(`${server.api}/healthz`)).status, 'ok');

  // Frames arrived at the source rate the whole time: no gap, and as many as wall time allows.
  const frames = viewer.videoFrames().slice(FPS); // skip the start-up burst (GOP cache)
  assert.ok(frames.length > 5 * FPS, `only ${frames.length} frames`);
  let worstGapMs = 0;
  for (let i = 1; i < frames.length; i++)
    worstGapMs = Math.max(worstGapMs, frames[i]!.tag.atMs - frames[i - 1]!.tag.atMs);
  const wallS = (frames.at(-1)!.tag.atMs - frames[0]!.tag.atMs) / 1000;
  const mediaS = (frames.at(-1)!.tag.timestampMs - frames[0]!.tag.timestampMs) / 1000;
  const rate = frames.length / wallS;
  t.diagnostic(
    `${frames.length} frames in ${wallS.toFixed(1)} s (${rate.toFixed(1)}/s), worst gap ${worstGapMs} ms`,
  );
  assert.ok(worstGapMs < 1000, `a ${worstGapMs} ms gap between frames`);
  assert.ok(Math.abs(rate - FPS) < FPS * 0.15, `${rate.toFixed(1)} frames/s over ${wallS.toFixed(1)} s`);
  assert.ok(
    Math.abs(mediaS - wallS) < Math.max(0.5, wallS * 0.1),
    `${mediaS.toFixed(1)} s of media in ${wallS.toFixed(1)} s`,
  );
  assert.equal(viewer.timestampRegression(), null);
});
