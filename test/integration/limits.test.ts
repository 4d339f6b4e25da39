import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpFlv, wsFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { counter, portOf, rawHttp, RawConn, rtmpErrors, RtmpTestClient } from './helpers/net.ts';
import { getJson, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Timeouts and limits, each on a server configured with small values so the tests are quick.
// Timings are asserted between 0.8x and 3x of the configured value: early is a bug, late
// only means a loaded machine.

const HANDSHAKE_MS = 1000;
const IDLE_MS = 1500;
const PUBLISH_IDLE_MS = 1000; // the schema's minimum
const WAIT_MS = 1500;
const SPEC = { durationS: 4, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 };

/** Handshake, idle and publisher timeouts; viewers wait long enough to see a republish. */
let timeouts: SluiceProcess;
/** Three media connections at most. */
let limited: SluiceProcess;
/** Viewers give up on a missing publisher after WAIT_MS. */
let waiting: SluiceProcess;
let media: string;
const children: Child[] = [];
const collectors: FlvCollector[] = [];
const conns: { destroy(): void }[] = [];

before(async () => {
  [timeouts, limited, waiting, media] = await Promise.all([
    startSluice({
      stream: { waitPublisherMs: 5000 },
      limits: {
        handshakeTimeoutMs: HANDSHAKE_MS,
        idleTimeoutMs: IDLE_MS,
        publishIdleTimeoutMs: PUBLISH_IDLE_MS,
      },
    }),
    startSluice({ stream: { waitPublisherMs: 20_000 }, limits: { maxConnections: 3 } }),
    startSluice({ stream: { waitPublisherMs: WAIT_MS } }),
    makeTestFlv(SPEC),
  ]);
});

after(async () => {
  for (const c of collectors) c.stop();
  for (const c of conns) c.destroy();
  for (const c of children) {
    if (c.proc.pid && c.proc.exitCode === null) c.proc.kill('SIGCONT');
  }
  await Promise.all(children.map((c) => c.kill()));
  await Promise.all([timeouts?.stop(), limited?.stop(), waiting?.stop()]);
});

function assertTiming(elapsedMs: number, configuredMs: number, what: string): void {
  assert.ok(
    elapsedMs >= configuredMs * 0.8 && elapsedMs <= configuredMs * 3,
    `${what} after ${elapsedMs} ms, configured ${configuredMs} ms`,
  );
}

async function rawConn(server: SluiceProcess): Promise<RawConn> {
  const c = await RawConn.open(portOf(server.rtmp));
  conns.push(c);
  return c;
}

interface StreamList {
  streams: { key: string; subscribers: number; publisher: unknown }[];
}

async function streamInfo(
  server: SluiceProcess,
  key: string,
): Promise<StreamList['streams'][number] | undefined> {
  return (await getJson<StreamList>(`${server.api}/api/v1/streams`)).streams.find((s) => s.key === key);
}

test('a connection that sends nothing is closed by the handshake timeout', async () => {
  const before = await rtmpErrors(timeouts.api, 'RTMP_HANDSHAKE_TIMEOUT');
  const c = await rawConn(timeouts);
  const closedAt = await c.waitClosed(HANDSHAKE_MS * 4);
  assertTiming(closedAt - c.openedAt, HANDSHAKE_MS, 'closed');
  assert.equal(c.received().length, 0);
  await waitFor(
    async () => (await rtmpErrors(timeouts.api, 'RTMP_HANDSHAKE_TIMEOUT')) === before + 1,
    2000,
    'counted',
  );
});

test('half a handshake (C0 + 100 bytes of C1) is closed by the handshake timeout', async () => {
  const before = await rtmpErrors(timeouts.api, 'RTMP_HANDSHAKE_TIMEOUT');
  const c = await rawConn(timeouts);
  c.write(Buffer.concat([Buffer.of(3), Buffer.alloc(100, 0x5a)]));
  const closedAt = await c.waitClosed(HANDSHAKE_MS * 4);
  assertTiming(closedAt - c.openedAt, HANDSHAKE_MS, 'closed');
  await waitFor(
    async () => (await rtmpErrors(timeouts.api, 'RTMP_HANDSHAKE_TIMEOUT')) === before + 1,
    2000,
    'counted',
  );
});

test('a connection that connects but never publishes or plays is closed by the idle timeout', async () => {
  const before = await rtmpErrors(timeouts.api, 'RTMP_IDLE_TIMEOUT');
  const c = await RtmpTestClient.ready(portOf(timeouts.rtmp));
  conns.push(c);
  const handshakeAt = Date.now();
  const res = await c.connect('live');
  assert.equal(res.name, '_result');
  const closedAt = await c.conn.waitClosed(IDLE_MS * 4);
  assertTiming(closedAt - handshakeAt, IDLE_MS, 'closed');
  await waitFor(
    async () => (await rtmpErrors(timeouts.api, 'RTMP_IDLE_TIMEOUT')) === before + 1,
    2000,
    'counted',
  );
});

test('a publisher that stops sending is closed; its viewers stay for a republish', async () => {
  const key = 'live/stalls';
  const before = await rtmpErrors(timeouts.api, 'RTMP_PUBLISH_IDLE_TIMEOUT');
  const viewer = httpFlv(`${timeouts.http}/${key}.flv`);
  collectors.push(viewer);
  const first = publish(media, `${timeouts.rtmp}/${key}`, { loop: true });
  children.push(first);
  await waitFor(() => viewer.videoFrames().length >= 10, 10_000, 'frames from the first publisher');

  // A frozen encoder: the TCP connection stays up, nothing more arrives.
  first.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  await waitFor(
    async () => (await streamInfo(timeouts, key))?.publisher === null,
    PUBLISH_IDLE_MS * 4,
    'publisher dropped',
  );
  assertTiming(Date.now() - stoppedAt, PUBLISH_IDLE_MS, 'publisher dropped');
  assert.equal(await rtmpErrors(timeouts.api, 'RTMP_PUBLISH_IDLE_TIMEOUT'), before + 1);
  first.proc.kill('SIGCONT');
  await first.kill();

  // The viewer is still attached and gets the next publisher's frames on the same connection.
  assert.equal(viewer.closed, false, 'viewer was disconnected with its publisher');
  assert.equal((await streamInfo(timeouts, key))?.subscribers, 1);
  const framesBefore = viewer.videoFrames().length;
  const second = publish(media, `${timeouts.rtmp}/${key}`, { loop: true });
  children.push(second);
  await waitFor(
    () => viewer.videoFrames().length >= framesBefore + 10,
    4000,
    'frames from the second publisher',
  );
  assert.equal(viewer.closed, false);
  assert.equal(viewer.timestampRegression(), null, 'timestamps continue across the republish');
  viewer.stop();
  await second.kill();
});

test('maxConnections covers HTTP and RTMP; a freed slot is reused', async () => {
  const key = 'live/nobody';
  const refused = async (proto: string): Promise<number> =>
    counter(limited.api, 'sluice_connections_refused_limit_total', { proto });
  const [httpBefore, rtmpBefore, wsBefore] = await Promise.all([
    refused('http'),
    refused('rtmp'),
    refused('ws'),
  ]);
  const viewers = [0, 1, 2].map(() => httpFlv(`${limited.http}/${key}.flv`));
  collectors.push(...viewers);
  await waitFor(
    async () => (await streamInfo(limited, key))?.subscribers === 3,
    5000,
    'three waiting viewers',
  );

  const fourth = await rawHttp(
    portOf(limited.http),
    `GET /${key}.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(fourth.status, 503, fourth.raw);
  const ws = await rawHttp(
    portOf(limited.http),
    `GET /${key}.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  );
  assert.equal(ws.status, 503, ws.raw);

  const rtmp = await rawConn(limited);
  rtmp.write(Buffer.concat([Buffer.of(3), Buffer.alloc(1536)])); // C0+C1: must not be answered
  const closedAt = await rtmp.waitClosed(1000);
  assert.ok(
    closedAt - rtmp.openedAt < 500,
    `4th RTMP connection closed after ${closedAt - rtmp.openedAt} ms`,
  );
  assert.equal(rtmp.received().length, 0);
  await waitFor(async () => (await refused('rtmp')) === rtmpBefore + 1, 2000, 'rtmp refusal counted');
  assert.equal(await refused('http'), httpBefore + 1);
  assert.equal(await refused('ws'), wsBefore + 1);
  assert.ok(
    viewers.every((v) => !v.closed),
    'the three admitted viewers are untouched',
  );

  viewers[0]!.stop();
  await waitFor(
    async () => (await streamInfo(limited, key))?.subscribers === 2,
    3000,
    'the slot to be freed',
  );
  const again = await RtmpTestClient.ready(portOf(limited.rtmp), 2000);
  conns.push(again);
  assert.equal((await again.connect('live')).name, '_result', 'a new connection is served');
  // And the node is full again.
  const full = await rawHttp(
    portOf(limited.http),
    `GET /${key}.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(full.status, 503);
  again.destroy();
  for (const v of viewers) v.stop();
});

test('viewers of a stream that never comes give up after waitPublisherMs on every protocol', async () => {
  const key = 'live/never';
  const ended: Record<string, number> = {};
  const notFoundBefore = await counter(waiting.api, 'sluice_viewer_not_found_total');
  const t0 = Date.now();

  // Raw HTTP: a FLV parser would choke on the 404's text body.
  const http = rawHttp(
    portOf(waiting.http),
    `GET /${key}.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    WAIT_MS * 4,
  );
  const ws = wsFlv(`${waiting.ws}/${key}.flv`);
  collectors.push(ws);
  const rtmp = await RtmpTestClient.ready(portOf(waiting.rtmp));
  conns.push(rtmp);
  await rtmp.connect('live');
  const sid = await rtmp.createStream();
  const playAt = Date.now();
  rtmp.command('play', null, ['never', -2000], sid);

  await Promise.all([
    http.then(() => (ended.http = Date.now() - t0)),
    ws.whenClosed().then(() => (ended.ws = Date.now() - t0)),
    rtmp
      .waitStatus('NetStream.Play.StreamNotFound', WAIT_MS * 4)
      .then(() => (ended.rtmp = Date.now() - playAt)),
  ]);
  assertTiming(ended.http!, WAIT_MS, 'HTTP-FLV 404');
  assertTiming(ended.ws!, WAIT_MS, 'WS-FLV 404');
  assertTiming(ended.rtmp!, WAIT_MS, 'RTMP StreamNotFound');
  const res = await http;
  assert.equal(res.status, 404, res.raw);
  assert.match(res.body, /stream not found/);
  assert.doesNotMatch(res.body, /FLV/, 'no FLV bytes before the 404');
  assert.equal(ws.status, 404);
  const st = rtmp.statuses();
  assert.deepEqual(
    st.map((s) => [s.level, s.code]),
    [['error', 'NetStream.Play.StreamNotFound']],
  );
  await rtmp.conn.waitClosed(2000);
  assert.equal(await counter(waiting.api, 'sluice_viewer_not_found_total'), notFoundBefore + 3);
  assert.equal(await streamInfo(waiting, key), undefined, 'the stream is forgotten');
});
