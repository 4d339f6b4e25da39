import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { commandMessage } from '../../libs/rtmp/commands.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';
import { ffmpegPlayer, httpFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import {
  counter,
  fmt0Header,
  LogLevel,
  logsOf,
  portOf,
  rawHttp,
  RawConn,
  rtmpErrors,
  RtmpTestClient,
} from './helpers/net.ts';
import { getJson, inputHeld, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Hostile loads against one real Sluice process while a real ffmpeg publisher feeds it and two
// real players watch (ffmpeg over RTMP, an HTTP-FLV client). Memory is measured as the server
// reserves it (GET /api/v1/stats `input`), refusals by its counters; the last test checks that the
// players never noticed any of it.

const FPS = 25;
const SPEC = { durationS: 4, width: 320, height: 180, fps: FPS, gop: FPS, videoKbps: 300 };
const MiB = 1024 * 1024;
const HANDSHAKE_MS = 3000;
const MAX_CONNECTIONS = 1500;
const NODE_BUDGET = 24 * MiB;
/** Node's HTTP header limit (--max-http-header-size). */
const MAX_HEADER_BYTES = 16 * 1024;
/** The HTTP and API servers' headersTimeout. */
const HEADERS_TIMEOUT_MS = 10_000;
/** A refused session must be closed this fast once the server has its bytes. */
const CLOSE_MS = 1000;

let server: SluiceProcess;
let publisher: Child;
let rtmpPlayer: FlvCollector;
let flvViewer: FlvCollector;
let rtmpPort: number;
let httpPort: number;
let apiPort: number;
const clients: { destroy(): void }[] = [];
/** Endless headers trickled slowly from the start, to be cut by the headers timeout. */
let slowHeaders: { port: number; conn: RawConn; timer: NodeJS.Timeout }[] = [];

interface Stats {
  input: { bufferedBytes: number; budgetBytes: number };
  connections: { active: number; max: number };
  memory: { heapUsedBytes: number; arrayBuffersBytes: number; externalBytes: number };
}
const stats = (): Promise<Stats> => getJson<Stats>(`${server.api}/api/v1/stats`);
const openFds = (): number => readdirSync(`/proc/${server.pid}/fd`).length;

before(async () => {
  const media = await makeTestFlv(SPEC);
  server = await startSluice({
    log: { level: 'info' },
    stream: { waitPublisherMs: 8000 },
    limits: { handshakeTimeoutMs: HANDSHAKE_MS, idleTimeoutMs: 20_000, maxConnections: MAX_CONNECTIONS },
    rtmp: { nodeInputBufferBytes: NODE_BUDGET },
  });
  rtmpPort = portOf(server.rtmp);
  httpPort = portOf(server.http);
  apiPort = portOf(server.api);
  publisher = publish(media, `${server.rtmp}/live/ok`, { loop: true });
  rtmpPlayer = ffmpegPlayer(`${server.rtmp}/live/ok`);
  flvViewer = httpFlv(`${server.http}/live/ok.flv`);
  await waitFor(
    () => rtmpPlayer.videoFrames().length > FPS && flvViewer.videoFrames().length > FPS,
    15_000,
    'both players to receive a second of video',
  );
  // Started now, checked by the last test: an endless header, one byte every 300 ms.
  for (const port of [httpPort, apiPort]) {
    const conn = await RawConn.open(port);
    conn.write('GET /live/ok.flv HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const timer = setInterval(() => conn.write('a'), 300);
    slowHeaders.push({ port, conn, timer });
  }
});

after(async () => {
  for (const s of slowHeaders) clearInterval(s.timer);
  for (const s of slowHeaders) s.conn.destroy();
  for (const c of clients.splice(0)) c.destroy();
  rtmpPlayer?.stop();
  flvViewer?.stop();
  await publisher?.kill();
  await server?.stop();
});

/** Worst gap between video frames and frame count of `c` since `sinceMs`. */
function gaps(c: FlvCollector, sinceMs: number): { worstMs: number; frames: number } {
  const frames = c.videoFrames().filter((f) => f.tag.atMs >= sinceMs);
  let worstMs = frames.length ? frames[0]!.tag.atMs - sinceMs : Date.now() - sinceMs;
  for (let i = 1; i < frames.length; i++)
    worstMs = Math.max(worstMs, frames[i]!.tag.atMs - frames[i - 1]!.tag.atMs);
  worstMs = Math.max(worstMs, frames.length ? Date.now() - frames.at(-1)!.tag.atMs : 0);
  return { worstMs, frames: frames.length };
}

/** Both players kept receiving since `sinceMs`, never more than a second without a frame. */
function assertPlayersFine(sinceMs: number, what: string): void {
  for (const [name, c] of [
    ['ffmpeg RTMP player', rtmpPlayer],
    ['HTTP-FLV viewer', flvViewer],
  ] as const) {
    assert.equal(c.closed, false, `${name} was disconnected during ${what}: ${c.error?.message ?? ''}`);
    const g = gaps(c, sinceMs);
    assert.ok(g.worstMs < 1000, `${name}: a ${g.worstMs} ms gap during ${what}`);
  }
}

async function rtmpReady(): Promise<RtmpTestClient> {
  const c = await RtmpTestClient.ready(rtmpPort);
  clients.push(c);
  return c;
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

test('2,000 connections that never finish the handshake are reaped while players play', async (t) => {
  const N = 2000;
  const since = Date.now();
  const base = await stats();
  const fdsBefore = openFds();
  const timeoutsBefore = await rtmpErrors(server.api, 'RTMP_HANDSHAKE_TIMEOUT');
  const refusedBefore = await counter(server.api, 'sluice_connections_refused_limit_total', {
    proto: 'rtmp',
  });
  // Half send nothing, half send C0 and 700 bytes of C1.
  const conns = await inBatches([...Array(N).keys()], 250, async (i) => {
    const c = await RawConn.open(rtmpPort);
    clients.push(c);
    if (i % 2 === 1) c.write(Buffer.concat([Buffer.of(3), Buffer.alloc(700, 7)]));
    return c;
  });
  const openedMs = Date.now() - since;
  const full = await stats();
  // The node is at its connection limit: a new viewer is refused with 503 until the reaping.
  const refusedViewer = await rawHttp(
    httpPort,
    'GET /live/ok.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  await waitFor(() => conns.every((c) => c.closed), HANDSHAKE_MS * 3 + openedMs, 'every connection closed');
  const lifetimes = conns.map((c) => c.closedAt - c.openedAt);
  const refused = lifetimes.filter((ms) => ms < HANDSHAKE_MS / 2).length;
  const accepted = N - refused;
  t.diagnostic(
    `opened ${N} in ${openedMs} ms: ${accepted} accepted, ${refused} refused at the limit; ` +
      `${full.connections.active} connections and ${full.input.bufferedBytes} input bytes held at the peak; ` +
      `reaped after ${Math.min(...lifetimes.filter((ms) => ms >= HANDSHAKE_MS / 2))}-${Math.max(...lifetimes)} ms`,
  );
  assert.equal(full.connections.active, MAX_CONNECTIONS);
  assert.ok(refused >= N - MAX_CONNECTIONS, `${refused} refused`);
  assert.equal(refusedViewer.status, 503);
  for (const ms of lifetimes.filter((x) => x >= HANDSHAKE_MS / 2)) {
    assert.ok(ms >= HANDSHAKE_MS * 0.8 && ms <= HANDSHAKE_MS * 3, `reaped after ${ms} ms`);
  }
  // Partial C0+C1 bytes are charged to the node's input budget while held, and only then.
  const partial = conns.filter((c, i) => i % 2 === 1 && c.closedAt - c.openedAt >= HANDSHAKE_MS / 2).length;
  assert.ok(
    full.input.bufferedBytes >= base.input.bufferedBytes + partial * 701 * 0.9,
    `${full.input.bufferedBytes} input bytes for ${partial} partial handshakes`,
  );
  await waitFor(
    async () => (await rtmpErrors(server.api, 'RTMP_HANDSHAKE_TIMEOUT')) === timeoutsBefore + accepted,
    3000,
    `${accepted} handshake timeouts counted`,
  );
  assert.equal(
    await counter(server.api, 'sluice_connections_refused_limit_total', { proto: 'rtmp' }),
    refusedBefore + refused,
  );
  const afterwards = await stats();
  assert.equal(afterwards.connections.active, base.connections.active);
  assert.ok(
    afterwards.input.bufferedBytes <= base.input.bufferedBytes,
    `${afterwards.input.bufferedBytes} held`,
  );
  await waitFor(() => openFds() <= fdsBefore + 2, 2000, `server fds back to ${fdsBefore}`);
  // A new viewer is served again.
  const viewer = httpFlv(`${server.http}/live/ok.flv`);
  clients.push({ destroy: () => viewer.stop() });
  await waitFor(() => viewer.videoFrames().length > 0, 5000, 'a new viewer to get video');
  viewer.stop();
  assertPlayersFine(since, 'the handshake flood');
});

test('Set Chunk Size 0x7FFFFFFF, 0 and 0x80000000 close the session with RTMP_BAD_CHUNK_SIZE', async (t) => {
  const since = Date.now();
  for (const size of [0x7fffffff, 0, 0x80000000]) {
    await t.test(`0x${size.toString(16)}`, async () => {
      const before = await rtmpErrors(server.api, 'RTMP_BAD_CHUNK_SIZE');
      const c = await rtmpReady();
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(size);
      const t0 = Date.now();
      c.send({ csid: 2, typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload });
      const closedAt = await c.conn.waitClosed(CLOSE_MS + 500);
      assert.ok(closedAt - t0 <= CLOSE_MS, `closed after ${closedAt - t0} ms`);
      await waitFor(
        async () => (await rtmpErrors(server.api, 'RTMP_BAD_CHUNK_SIZE')) === before + 1,
        2000,
        'counted once',
      );
      const line = await waitFor(
        () => logsOf(server.logs, c.conn.remote).find((l) => l.code === 'RTMP_BAD_CHUNK_SIZE'),
        2000,
        'the log line',
      );
      assert.match(String(line.err), /set chunk size \d+ is outside 1\.\.16777215/);
    });
  }
  assertPlayersFine(since, 'bad chunk sizes');
});

test('1,000 connections declaring an 8 MiB message and sending 1 byte reserve a few hundred bytes each', async (t) => {
  const N = 1000;
  const since = Date.now();
  const base = await inputHeld(server.api);
  const conns = await inBatches([...Array(N).keys()], 100, async () => {
    const c = await rtmpReady();
    c.sendRaw(Buffer.concat([fmt0Header(6, 8 * MiB, MessageType.Video, 1), Buffer.of(1)]));
    return c;
  });
  // The server has read them all once what it holds stops changing (and at least a byte each).
  let held = 0;
  await waitFor(
    async () => {
      const prev = held;
      held = (await inputHeld(server.api)) - base;
      return held >= N && held === prev;
    },
    5000,
    'every connection to be read',
  );
  // The node answers promptly meanwhile.
  let worstApiMs = 0;
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now();
    assert.equal((await getJson(`${server.api}/healthz`)).status, 'ok');
    worstApiMs = Math.max(worstApiMs, Date.now() - t0);
  }
  t.diagnostic(
    `${held} bytes reserved for ${N} x 1 byte (${(held / N).toFixed(0)} per connection); healthz <= ${worstApiMs} ms`,
  );
  assert.ok(held <= N * 512, `${held} bytes reserved`);
  assert.ok(worstApiMs < 500, `healthz took ${worstApiMs} ms`);
  assert.ok(
    conns.every((c) => !c.closed),
    'none refused',
  );
  for (const c of conns) c.destroy();
  await waitFor(
    async () => (await inputHeld(server.api)) <= base,
    3000,
    'the reservations released on close',
  );
  assertPlayersFine(since, 'the 1,000 partial messages');
});

test('over the node input budget the connection that asks is refused, the others keep theirs', async (t) => {
  const since = Date.now();
  const before = await rtmpErrors(server.api, 'RTMP_NODE_INPUT_BUDGET');
  const base = await inputHeld(server.api);
  const setChunk = Buffer.alloc(4);
  setChunk.writeUInt32BE(MiB);
  /** 1 MiB chunks of 8 MiB messages on `csids` in turn: `n` MiB in all. */
  const fill = async (c: RtmpTestClient, csids: number[], n: number): Promise<void> => {
    c.send({ csid: 2, typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: setChunk });
    for (let i = 0; i < n && !c.closed; i++) {
      const cs = csids[i % csids.length]!;
      const header = i < csids.length ? fmt0Header(cs, 8 * MiB, MessageType.Video, 1) : Buffer.of(0xc0 | cs);
      c.sendRaw(Buffer.concat([header, Buffer.alloc(MiB, i)]));
      await sleep(5);
    }
  };
  // Two connections hold 7 MiB of partial messages each, within their own 16 MiB limit.
  const [a, b] = [await rtmpReady(), await rtmpReady()];
  await fill(a, [3], 7);
  await fill(b, [3], 7);
  await Promise.all([a.ping(), b.ping()]);
  const heldAB = (await inputHeld(server.api)) - base;
  // A third asks for 10 MiB more: the node's 24 MiB cannot take it.
  const c = await rtmpReady();
  await fill(c, [3, 4], 10);
  await c.conn.waitClosed(CLOSE_MS + 500);
  await waitFor(
    async () => (await rtmpErrors(server.api, 'RTMP_NODE_INPUT_BUDGET')) === before + 1,
    2000,
    'counted once',
  );
  const line = await waitFor(
    () => logsOf(server.logs, c.conn.remote).find((l) => l.code === 'RTMP_NODE_INPUT_BUDGET'),
    2000,
    'the log line',
  );
  assert.ok((line.level as number) >= LogLevel.warn);
  await Promise.all([a.ping(), b.ping()]); // still served
  t.diagnostic(`${heldAB} bytes held for 2 x 7 MiB; the third was refused at ${NODE_BUDGET} in all`);
  assert.ok(heldAB >= 14 * MiB && heldAB <= NODE_BUDGET, `${heldAB} bytes held`);
  a.destroy();
  b.destroy();
  await waitFor(async () => (await inputHeld(server.api)) <= base, 3000, 'the budget released');
  assertPlayersFine(since, 'the node budget refusal');
});

/** An AMF0 object nested `depth` deep: {a: {a: ... null}}. */
function deepAmf0(depth: number): Buffer {
  return Buffer.concat([
    Buffer.from('03000161'.repeat(depth), 'hex'),
    Buffer.of(0x05),
    Buffer.from('000009'.repeat(depth), 'hex'),
  ]);
}

test('AMF0 and AMF3 values nested 10,000 deep in connect are AMF_TOO_DEEP, no stack overflow', async (t) => {
  const since = Date.now();
  const connect = commandMessage('connect', 1, null, []).payload.subarray(0, -1); // name and txn only
  const cases = [
    {
      name: 'AMF0 objects',
      typeId: MessageType.CommandAmf0,
      payload: Buffer.concat([connect, deepAmf0(10_000)]),
    },
    {
      name: 'AMF3 arrays behind the avmplus marker',
      typeId: MessageType.CommandAmf3,
      // Format byte 0, then AMF0 with 0x11 switching to AMF3: [[[ ... null ]]] as dense arrays.
      payload: Buffer.concat([
        Buffer.of(0),
        connect,
        Buffer.of(0x11),
        Buffer.from('090301'.repeat(10_000), 'hex'),
        Buffer.of(1),
      ]),
    },
  ];
  for (const k of cases) {
    await t.test(k.name, async () => {
      const before = await rtmpErrors(server.api, 'AMF_TOO_DEEP');
      const c = await rtmpReady();
      const t0 = Date.now();
      c.send({ csid: 3, typeId: k.typeId, streamId: 0, timestamp: 0, payload: k.payload });
      const closedAt = await c.conn.waitClosed(CLOSE_MS + 500);
      assert.ok(closedAt - t0 <= CLOSE_MS, `closed after ${closedAt - t0} ms`);
      await waitFor(
        async () => (await rtmpErrors(server.api, 'AMF_TOO_DEEP')) === before + 1,
        2000,
        'counted once',
      );
      assert.equal(c.commands.length, 0, 'connect was not answered');
    });
  }
  assert.equal(server.proc.exitCode, null);
  assertPlayersFine(since, 'deep AMF');
});

/**
 * Sends a request head whose last header never ends, 1 KiB every 5 ms, until the server answers
 * or closes. Returns the status and how many bytes had been sent when the answer came.
 */
async function endlessHeader(
  port: number,
  head: string,
): Promise<{ status: number; sentBytes: number; ms: number }> {
  const c = await RawConn.open(port);
  clients.push(c);
  const t0 = Date.now();
  c.write(`${head}X-Endless: `);
  let sent = head.length + 11;
  while (!c.closed && c.received().length === 0 && Date.now() - t0 < 5000) {
    c.write('a'.repeat(1024));
    sent += 1024;
    await sleep(5);
  }
  await c.waitClosed(2000);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(c.received().toString('latin1'));
  return { status: m ? Number(m[1]) : 0, sentBytes: sent, ms: Date.now() - t0 };
}

test('an endless HTTP header is answered 431 and closed on the media and API ports', async (t) => {
  const since = Date.now();
  const [httpBefore, apiBefore] = await Promise.all([
    counter(server.api, 'sluice_protocol_errors_total', { proto: 'http', code: 'HPE_HEADER_OVERFLOW' }),
    counter(server.api, 'sluice_protocol_errors_total', { proto: 'api', code: 'HPE_HEADER_OVERFLOW' }),
  ]);
  const ws =
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const cases = [
    { name: 'HTTP-FLV', port: httpPort, head: 'GET /live/ok.flv HTTP/1.1\r\nHost: x\r\n' },
    { name: 'WebSocket-FLV upgrade', port: httpPort, head: `GET /live/ok.flv HTTP/1.1\r\nHost: x\r\n${ws}` },
    { name: 'API', port: apiPort, head: 'GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n' },
  ];
  for (const k of cases) {
    const r = await endlessHeader(k.port, k.head);
    t.diagnostic(`${k.name}: ${r.status} after ${r.sentBytes} bytes sent, ${r.ms} ms`);
    assert.equal(r.status, 431, k.name);
    // What the server read before refusing is bounded by its header limit (plus what was in flight).
    assert.ok(
      r.sentBytes <= MAX_HEADER_BYTES + 16 * 1024,
      `${k.name}: ${r.sentBytes} bytes sent before the 431`,
    );
  }
  // Clients that ignore the server's FIN after the 431 do not keep their sockets on the server.
  const fdsBefore = openFds();
  const halfOpen = await Promise.all(
    [...Array(20).keys()].map(async (i) => {
      const s = connect({ host: '127.0.0.1', port: i % 2 ? httpPort : apiPort, allowHalfOpen: true });
      clients.push(s);
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      const fin = new Promise((r) => s.once('end', r));
      s.resume();
      s.write(`GET /live/ok.flv HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      await fin;
      return s;
    }),
  );
  const fdsHalfOpen = openFds();
  await waitFor(() => openFds() <= fdsBefore + 2, 3000, `server fds back to ${fdsBefore}`);
  t.diagnostic(`20 half-open clients after a 431: server fds ${fdsBefore} -> ${fdsHalfOpen} -> ${openFds()}`);
  for (const s of halfOpen) s.destroy();
  // Fifty at once, each pushing 2 MiB as fast as the socket takes it: the server reads each up to
  // its header limit, answers and closes; its heap and array buffers (sampled every 20 ms) stay put.
  const m0 = (await stats()).memory;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    void stats().then((s) => samples.push(s.memory.heapUsedBytes + s.memory.arrayBuffersBytes));
  }, 20);
  const got431 = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const c = await RawConn.open(httpPort);
      clients.push(c);
      c.write('GET /live/ok.flv HTTP/1.1\r\nHost: x\r\nX-Endless: ');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let n = 0; !c.closed && n < 2 * MiB; n += chunk.length) {
        if (!c.socket.write(chunk)) await new Promise((r) => setTimeout(r, 2));
      }
      await c.waitClosed(3000);
      // A reset for the bytes still coming may beat the 431 to the client; the counter is exact.
      return c.received().toString('latin1').startsWith('HTTP/1.1 431');
    }),
  );
  await sleep(100);
  clearInterval(sampler);
  const grewMb = (Math.max(...samples) - (m0.heapUsedBytes + m0.arrayBuffersBytes)) / MiB;
  t.diagnostic(
    `50 x 2 MiB endless headers: all closed, ${got431.filter(Boolean).length} read the 431 before a reset; ` +
      `server heap + array buffers grew by at most ${grewMb.toFixed(1)} MiB over ${samples.length} samples`,
  );
  assert.ok(samples.length >= 3, `${samples.length} memory samples`);
  assert.ok(grewMb < 32, `server memory grew by ${grewMb.toFixed(1)} MiB`);
  await waitFor(
    async () =>
      (await counter(server.api, 'sluice_protocol_errors_total', {
        proto: 'http',
        code: 'HPE_HEADER_OVERFLOW',
      })) ===
      httpBefore + 2 + 10 + 50,
    2000,
    'every oversized header counted',
  );
  assert.equal(
    await counter(server.api, 'sluice_protocol_errors_total', { proto: 'api', code: 'HPE_HEADER_OVERFLOW' }),
    apiBefore + 1 + 10,
  );
  const refusals = server.logs.filter(
    (l) => l.msg === 'http request refused' && l.code === 'HPE_HEADER_OVERFLOW',
  );
  assert.ok(refusals.length >= 62, `${refusals.length} log lines`);
  assertPlayersFine(since, 'endless headers');
});

const TRAVERSALS = [
  '/../../etc/passwd.flv',
  '/live/../../../etc/passwd.flv',
  '/%2e%2e/%2e%2e/etc/passwd.flv',
  '/live/.%2e/.%2e/etc/passwd.flv',
  '/live/..%2f..%2fetc%2fpasswd.flv',
  '/live/%2e%2e%2f%2e%2e%2fetc%2fpasswd.flv',
  '/%252e%252e/%252e%252e/etc/passwd.flv',
  '/live/%252e%252e%252fetc%252fpasswd.flv',
  '/live/..\\..\\etc\\passwd.flv',
  '/live/..%5c..%5cetc%5cpasswd.flv',
  '/live/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd.flv',
  '//etc/passwd.flv',
  '/live/ok%00.flv',
  '/live/ok.flv/../../etc/passwd',
];

test('.., %2e%2e, %2f, double-encoded and backslash traversal are refused on every path', async (t) => {
  const since = Date.now();
  const upgrade =
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const apiPaths = [
    '/api/v1/../../etc/passwd',
    '/api/v1/%2e%2e/%2e%2e/etc/passwd',
    '/api/v1/streams/..%2f..%2fetc%2fpasswd',
    '/api/v1/stats%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%252e%252e/%252e%252e/etc/passwd',
    '/..\\..\\etc\\passwd',
    '/healthz/../../etc/passwd',
    '/metrics/..%5c..%5cetc%5cpasswd',
  ];
  const requests = [
    ...TRAVERSALS.map((p) => ({
      what: `HTTP-FLV ${p}`,
      port: httpPort,
      req: `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    })),
    ...TRAVERSALS.map((p) => ({
      what: `WS-FLV ${p}`,
      port: httpPort,
      req: `GET ${p} HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`,
    })),
    ...apiPaths.map((p) => ({
      what: `API ${p}`,
      port: apiPort,
      req: `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    })),
  ];
  const refusals = async (): Promise<{ http: number; api: number }> => {
    const [notFound, httpBad, apiNotFound, apiBad] = await Promise.all([
      counter(server.api, 'sluice_http_not_found_total'),
      counter(server.api, 'sluice_protocol_errors_total', { proto: 'http' }),
      counter(server.api, 'sluice_api_not_found_total'),
      counter(server.api, 'sluice_protocol_errors_total', { proto: 'api' }),
    ]);
    return { http: notFound + httpBad, api: apiNotFound + apiBad };
  };
  const refusedBefore = await refusals();
  for (const r of requests) {
    const res = await rawHttp(r.port, r.req);
    assert.ok(
      res.status >= 400 && res.status < 500,
      `${r.what}: ${res.status} ${JSON.stringify(res.raw.slice(0, 120))}`,
    );
    assert.ok(!/root:|\/bin\/|passwd/.test(res.body), `${r.what}: no file content`);
  }
  // Each refusal is counted (404s, or 400s from the parser).
  const refusedAfter = await refusals();
  assert.equal(refusedAfter.http - refusedBefore.http, 2 * TRAVERSALS.length);
  assert.equal(refusedAfter.api - refusedBefore.api, apiPaths.length);
  const rtmpCases = [
    { app: '..', name: 'passwd', code: 'RTMP_BAD_APP' },
    { app: '../..', name: 'etc', code: 'RTMP_BAD_APP' },
    { app: '%2e%2e', name: 'passwd', code: 'RTMP_BAD_APP' },
    { app: 'live/..', name: 'passwd', code: 'RTMP_BAD_APP' },
    { app: 'live\\..\\..', name: 'passwd', code: 'RTMP_BAD_APP' },
    { app: '..%2f..', name: 'passwd', code: 'RTMP_BAD_APP' },
    { app: 'live', name: '../../etc/passwd', code: 'RTMP_BAD_STREAM_NAME' },
    { app: 'live', name: '%2e%2e', code: 'RTMP_BAD_STREAM_NAME' },
    { app: 'live', name: '..%2f..%2fetc%2fpasswd', code: 'RTMP_BAD_STREAM_NAME' },
    { app: 'live', name: '%252e%252e%252fetc', code: 'RTMP_BAD_STREAM_NAME' },
    { app: 'live', name: '..\\..\\etc\\passwd', code: 'RTMP_BAD_STREAM_NAME' },
    { app: 'live', name: 'ok/../../x', code: 'RTMP_BAD_STREAM_NAME' },
  ];
  for (const k of rtmpCases) {
    for (const kind of ['play', 'publish'] as const) {
      const before = await rtmpErrors(server.api, k.code);
      const c = await rtmpReady();
      await c.connect(k.app);
      const sid = await c.createStream();
      c.command(kind, null, kind === 'play' ? [k.name, -2000] : [k.name, 'live'], sid);
      const status = await c.waitStatus(
        kind === 'play' ? 'NetStream.Play.StreamNotFound' : 'NetStream.Publish.BadName',
        2000,
      );
      assert.equal(status.level, 'error', `${kind} ${k.app} ${k.name}`);
      await c.conn.waitClosed(CLOSE_MS + 500);
      await waitFor(
        async () => (await rtmpErrors(server.api, k.code)) === before + 1,
        2000,
        `${kind} ${JSON.stringify(k)}: ${k.code} counted`,
      );
    }
  }
  // No stream was created for any of them.
  const { streams } = await getJson<{ streams: { key: string }[] }>(`${server.api}/api/v1/streams`);
  assert.deepEqual(
    streams.map((s) => s.key),
    ['live/ok'],
  );
  t.diagnostic(`${requests.length} HTTP requests and ${rtmpCases.length * 2} RTMP sessions refused`);
  assertPlayersFine(since, 'traversal attempts');
});

test('trickled endless headers were cut by the headers timeout; the players never noticed', async (t) => {
  for (const s of slowHeaders) {
    await s.conn.waitClosed(HEADERS_TIMEOUT_MS + 3000 - (Date.now() - s.conn.openedAt));
    clearInterval(s.timer);
    const lifeMs = s.conn.closedAt - s.conn.openedAt;
    const head = s.conn.received().toString('latin1');
    t.diagnostic(`port ${s.port}: closed after ${lifeMs} ms with ${JSON.stringify(head.slice(0, 30))}`);
    assert.ok(
      lifeMs >= HEADERS_TIMEOUT_MS * 0.9 && lifeMs <= HEADERS_TIMEOUT_MS + 2500,
      `closed after ${lifeMs} ms`,
    );
    assert.match(head, /^HTTP\/1\.1 408/);
  }
  slowHeaders = [];
  assert.equal(server.proc.exitCode, null, 'server exited');
  assert.equal(publisher.proc.exitCode, null, `publisher exited: ${publisher.stderr()}`);
  for (const [name, c] of [
    ['ffmpeg RTMP player', rtmpPlayer],
    ['HTTP-FLV viewer', flvViewer],
  ] as const) {
    const frames = c.videoFrames().slice(FPS); // after the start-up burst (GOP cache)
    const wallS = (frames.at(-1)!.tag.atMs - frames[0]!.tag.atMs) / 1000;
    const rate = frames.length / wallS;
    const g = gaps(c, frames[0]!.tag.atMs);
    t.diagnostic(
      `${name}: ${frames.length} frames in ${wallS.toFixed(1)} s (${rate.toFixed(1)}/s), worst gap ${g.worstMs} ms`,
    );
    assert.equal(c.closed, false, `${name} disconnected: ${c.error?.message ?? ''}`);
    assert.ok(g.worstMs < 1000, `${name}: a ${g.worstMs} ms gap`);
    assert.ok(Math.abs(rate - FPS) < FPS * 0.15, `${name}: ${rate.toFixed(1)} frames/s`);
    assert.equal(c.timestampRegression(), null);
  }
});
