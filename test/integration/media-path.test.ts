import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AmfObject } from '../../libs/amf/index.ts';
import { RtmpClient } from '../../libs/rtmp/client-connection.ts';
import { commandMessage } from '../../libs/rtmp/commands.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';
import { parseVideoTag } from '../../libs/flv/index.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { portOf, rtmpErrors, RtmpTestClient } from './helpers/net.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { SyntheticPublisher } from './helpers/synthetic-publisher.ts';

// The media path's session accounting and socket handling against a real server process:
// each test here failed on the code before the fix it names.

const WAIT_PUBLISHER_MS = 600;
const WINDOW_MS = 150;
const PUBLISH_IDLE_MS = 1000;
const BUDGET = 65_536;

let server: SluiceProcess;
let rtmpPort: number;
const closers: (() => void)[] = [];

before(async () => {
  server = await startSluice({
    log: { level: 'info' },
    stream: { waitPublisherMs: WAIT_PUBLISHER_MS },
    limits: { handshakeTimeoutMs: 2000, idleTimeoutMs: 4000, publishIdleTimeoutMs: PUBLISH_IDLE_MS },
    viewer: { writeCoalesceMs: WINDOW_MS, maxBufferedBytes: BUDGET },
  });
  rtmpPort = portOf(server.rtmp);
});

after(async () => {
  for (const c of closers) c();
  await server?.stop();
});

interface Stats {
  sessions: { publisher: number; player: number; relay: number };
  counters: Record<string, number>;
}
const stats = (): Promise<Stats> => getJson<Stats>(`${server.api}/api/v1/stats`);

async function publisher(key: string, opts: Parameters<typeof SyntheticPublisher.start>[1] = {}) {
  const p = await SyntheticPublisher.start(`${server.rtmp}/${key}`, opts);
  closers.push(() => p.close());
  return p;
}

async function player(): Promise<RtmpTestClient> {
  const c = await RtmpTestClient.ready(rtmpPort);
  closers.push(() => c.conn.destroy());
  await c.connect();
  return c;
}

const statusCode = (c: RtmpTestClient): unknown[] => c.statuses().map((s) => s.code);

test('RTMP viewers the server ends (not found, unpublished) report their end: player count back to 0', async () => {
  assert.equal((await stats()).sessions.player, 0);
  // Not found: nobody publishes live/none within waitPublisherMs.
  const lost = await player();
  const id = await lost.createStream();
  lost.command('play', null, ['none'], id);
  await waitFor(async () => (await stats()).sessions.player === 1, 2000, 'the waiting viewer counted');
  await lost.waitStatus('NetStream.Play.StreamNotFound', WAIT_PUBLISHER_MS + 2000);
  await waitFor(async () => (await stats()).sessions.player === 0, 2000, 'the not-found viewer uncounted');

  // Unpublished: the publisher leaves and does not come back within waitPublisherMs.
  const pub = await publisher('live/gone');
  const left = await player();
  const id2 = await left.createStream();
  left.command('play', null, ['gone'], id2);
  await left.waitStatus('NetStream.Play.Start', 2000);
  await waitFor(async () => (await stats()).sessions.player === 1, 2000, 'the viewer counted');
  pub.close();
  await left.waitStatus('NetStream.Play.UnpublishNotify', WAIT_PUBLISHER_MS + 2000);
  await waitFor(async () => (await stats()).sessions.player === 0, 2000, 'the unpublished viewer uncounted');
  assert.equal((await stats()).sessions.publisher, 0);
});

test('closeStream during a coalescing window leaves no socket corked: the next reply comes at once', async () => {
  const pub = await publisher('live/cork', { fps: 50, gop: 50 });
  const rounds = 8;
  const waits: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c = await player();
    const id = await c.createStream();
    c.command('play', null, ['cork'], id);
    await c.waitStatus('NetStream.Play.Start', 2000);
    // Frames arrive every 20 ms, so a window is open almost all the time.
    await c.until(() => c.messages.some((m) => m.typeId === MessageType.Video), 2000, 'video');
    await sleep(10 + ((i * 37) % 100));
    c.send(commandMessage('closeStream', 0, null, [], id));
    const t0 = Date.now();
    const again = await c.createStream(WINDOW_MS + 1500);
    waits.push(Date.now() - t0);
    assert.equal(again, id === 1 ? 2 : 1, 'the lowest free stream id');
    // And the connection can play again.
    c.command('play', null, ['cork'], again);
    await c.until(
      () => statusCode(c).filter((x) => x === 'NetStream.Play.Start').length === 2,
      WINDOW_MS + 1500,
      'second Play.Start',
    );
    c.conn.destroy();
  }
  assert.ok(Math.max(...waits) <= WINDOW_MS + 200, `createStream replies took ${waits.join(', ')} ms`);
  pub.close();
});

test('message stream ids: only those createStream returned, at most 8 per connection, freed ids reused', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_UNKNOWN_STREAM_ID');
  const c = await player();
  c.command('play', null, ['any'], 4242);
  await c.conn.waitClosed(2000);
  await waitFor(
    async () => (await rtmpErrors(server.api, 'RTMP_UNKNOWN_STREAM_ID')) === before + 1,
    2000,
    'RTMP_UNKNOWN_STREAM_ID counted',
  );

  const d = await player();
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) ids.push(await d.createStream());
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8]);
  const txn = d.command('createStream', null);
  const refused = await d.waitCommand((x) => x.transactionId === txn, 2000, 'ninth createStream');
  assert.equal(refused.name, '_error');
  d.command('deleteStream', null, [5]);
  assert.equal(await d.createStream(), 5);
  assert.equal(d.closed, false);
});

test('a publisher that sends no media is closed after publishIdleTimeoutMs even while it keeps chatting', async () => {
  const before = await rtmpErrors(server.api, 'RTMP_PUBLISH_IDLE_TIMEOUT');
  const pub = await publisher('live/chatty');
  await sleep(300);
  pub.pause();
  const pausedAt = Date.now();
  // Only acknowledgements and pings from now on: bytes, but no media.
  let seq = 0;
  const chat = setInterval(() => {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(++seq * 1000);
    pub.client.socket.write(
      Buffer.concat([Buffer.of(0x02, 0, 0, 0, 0, 0, 4, MessageType.Ack, 0, 0, 0, 0), payload]),
    );
  }, 100);
  closers.push(() => clearInterval(chat));
  await waitFor(
    () => pub.client.socket.destroyed,
    PUBLISH_IDLE_MS + 2500,
    'the server to close the idle publisher',
  );
  clearInterval(chat);
  const after = Date.now() - pausedAt;
  assert.ok(after >= PUBLISH_IDLE_MS - 100, `closed after ${after} ms`);
  assert.equal(await rtmpErrors(server.api, 'RTMP_PUBLISH_IDLE_TIMEOUT'), before + 1);
});

test('a late viewer gets the whole cached GOP even when it is bigger than its byte budget', async () => {
  // At the join the cached GOP is a 20 kB key frame and 30+ frames of 3 kB: over 100 kB, well
  // over the 64 kB budget. (A coalescing window of live frames stays far under it: ~25 kB.)
  const pub = await publisher('live/biggop', { fps: 50, gop: 100, keyBytes: 20_000, interBytes: 3_000 });
  await waitFor(() => pub.frames > 32, 3000, 'a third of a GOP published');
  const flv = httpFlv(`${server.http}/live/biggop.flv`);
  closers.push(() => flv.stop());
  const rtmp = await RtmpClient.connect(`${server.rtmp}/live/biggop`, { timeoutMs: 5000 });
  closers.push(() => rtmp.close());
  const rtmpVideo: { ts: number; key: boolean }[] = [];
  rtmp.onMedia = (m) => {
    if (m.typeId !== MessageType.Video) return;
    const info = parseVideoTag(m.payload);
    if (!info.isSequenceHeader) rtmpVideo.push({ ts: m.timestamp, key: info.isKeyFrame });
  };
  await rtmp.play();
  await waitFor(
    () => flv.videoFrames().length >= 40 && rtmpVideo.length >= 40,
    4000,
    'frames at the viewers',
  );
  const viewers = {
    'HTTP-FLV': flv.videoFrames().map((f) => ({ ts: f.tag.timestampMs, key: f.key })),
    RTMP: rtmpVideo,
  };
  for (const [name, frames] of Object.entries(viewers)) {
    assert.ok(frames[0]!.key, `${name} starts on the key frame`);
    for (let i = 1; i < frames.length; i++) {
      const [a, b] = [frames[i - 1]!.ts, frames[i]!.ts];
      assert.equal(b - a, 20, `${name}: no frame missing after ${a} (got ${b})`);
    }
  }
  const s = await stats();
  assert.equal(s.counters['viewer_dropped_frames'] ?? 0, 0);
  pub.close();
});

test('audio keeps flowing to a viewer that is waiting for a key frame after a drop', async () => {
  const pub = await publisher('live/sound', { fps: 25, gop: 75, keyBytes: 60_000, interBytes: 30_000 });
  const c = await RtmpClient.connect(`${server.rtmp}/live/sound`, { timeoutMs: 5000 });
  closers.push(() => c.close());
  const media: { type: number; ts: number; key: boolean }[] = [];
  c.onMedia = (m) => {
    if (m.typeId !== MessageType.Video && m.typeId !== MessageType.Audio) return;
    const key = m.typeId === MessageType.Video && parseVideoTag(m.payload).isKeyFrame;
    media.push({ type: m.typeId, ts: m.timestamp, key });
  };
  await c.play();
  await waitFor(() => media.length > 10, 3000, 'media');
  // Stop reading until the server's queue passes the budget and video drops to the next key frame.
  const dropsBefore = (await stats()).counters['viewer_drop_events'] ?? 0;
  c.socket.pause();
  await waitFor(
    async () => ((await stats()).counters['viewer_drop_events'] ?? 0) > dropsBefore,
    10_000,
    'the paused viewer to drop',
  );
  const at = media.length;
  c.socket.resume();
  // The key frame that ends the drop: the first one after a gap in the video. (What was queued
  // before the drop, maybe a key frame too, arrives first.)
  const gapEnd = (): number =>
    media.findIndex((m, i) => {
      if (i < at || !m.key) return false;
      const prev = media.slice(0, i).findLast((p) => p.type === MessageType.Video);
      return prev !== undefined && m.ts - prev.ts > 200;
    });
  await waitFor(() => gapEnd() >= 0, 6000, 'the key frame after the drop');
  const key = gapEnd();
  const prevVideo = media.slice(0, key).findLast((m) => m.type === MessageType.Video)!;
  const keyTs = media[key]!.ts;
  const audioInGap = media
    .slice(0, key)
    .filter((m) => m.type === MessageType.Audio && m.ts > prevVideo.ts + 40 && m.ts < keyTs);
  assert.ok(keyTs - prevVideo.ts > 200, `a video gap before the key frame (${prevVideo.ts} -> ${keyTs})`);
  // At 25 audio frames a second, most of the gap is covered with sound.
  const expected = ((keyTs - prevVideo.ts) / 40) * 0.5;
  assert.ok(
    audioInGap.length >= expected,
    `${audioInGap.length} audio frames in the ${keyTs - prevVideo.ts} ms video gap`,
  );
  pub.close();
});

test('the player count is right after all of the above', async () => {
  for (const c of closers.splice(0)) c();
  await waitFor(
    async () => {
      const s = await stats();
      return s.sessions.player === 0 && s.sessions.publisher === 0;
    },
    3000,
    'no sessions left',
  );
  const info = (await getJson<{ streams: AmfObject[] }>(`${server.api}/api/v1/streams`)).streams;
  assert.ok(info.every((s) => (s.subscribers as number) === 0));
});
