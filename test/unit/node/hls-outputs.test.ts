import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySegmentStore } from '../../../libs/hls/store-memory.ts';
import { TsMuxer } from '../../../libs/mpegts/muxer.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import {
  defineOutputFormat,
  StreamHub,
  type IncomingFrame,
  type SegmentMark,
  type Sink,
} from '../../../libs/stream/index.ts';

const NO_FORMAT = defineOutputFormat('none', () => Buffer.alloc(0));
import { HlsOutputs } from '../../../services/node/hls-outputs.ts';
import type { HlsConfig } from '../../../services/node/media-node.ts';
import { audioHeader, video, videoHeader } from '../hls/frames.ts';

// HlsOutputs on a real hub and real muxer: what an edge does with the owner's marks when its
// relay restarts, and what players see when a publisher comes back.

const CFG: HlsConfig = {
  enabled: true,
  targetMs: 2000,
  maxSegmentMs: 0,
  listSize: 6,
  maxSegmentBytes: 64 << 20,
  store: 'memory',
  dir: '/nonexistent',
  cleanupMode: 1,
  deleteThreshold: 6,
  keepAfterEndMs: 60_000,
  sessionTimeoutMs: 30_000,
  firstPlaylistWaitMs: 0,
  maxSessions: 100,
  maxSessionsPerClient: 100,
};

function setup(endAfterMs = 60_000) {
  const counters = new Counters();
  const hub = new StreamHub(
    {
      gopCache: true,
      gopCacheMaxBytes: 1 << 24,
      waitPublisherMs: 60_000,
      maxBufferedBytes: 1 << 24,
      stallTimeoutMs: 60_000,
      writeCoalesceMs: 0,
      segmentTargetMs: 2000,
    },
    { log: silentLogger(), counters },
  );
  const outputs = new HlsOutputs({
    cfg: CFG,
    log: silentLogger(),
    counters,
    store: new MemorySegmentStore(),
    newMuxer: () => new TsMuxer(),
    endAfterMs,
  });
  hub.onStreamCreated = (s) => outputs.attach(s);
  return { hub, outputs };
}

const frame = (f: ReturnType<typeof video>, segment: SegmentMark | null = null): IncomingFrame => ({
  kind: f.kind as 8 | 9,
  timestampMs: f.timestampMs,
  payload: f.payload,
  isKeyFrame: f.isKeyFrame,
  isSequenceHeader: f.isSequenceHeader,
  segment,
});
const mark = (seq: number, ts: number): SegmentMark => ({
  seq,
  timeline: 'e1',
  ts,
  discontinuity: false,
  independent: true,
});

/** A viewer that keeps the stream alive between publishers (it is sent nothing). */
const waitingViewer = (): Sink => ({
  id: 'v',
  format: NO_FORMAT,
  passive: true,
  bufferedBytes: 0,
  start() {},
  write() {},
  cork() {},
  uncork() {},
  end() {},
});

function listed(outputs: HlsOutputs, key: string): string[] {
  const text = outputs.get(key)?.livePlaylist ?? '';
  return text.split('\n').filter((l) => l.endsWith('.ts'));
}

test("edge: a relay that restarts inside a segment never lists that segment under the owner's name", () => {
  const { hub, outputs } = setup();
  const key = 'live/edge';
  const s = hub.getOrCreate(key);
  // Keep the stream alive across the relay restart, as a waiting viewer does.
  s.addSubscriber(waitingViewer());
  let h = s.attachPublisher('relay-1', { marksFromSource: true })!;
  s.write(h, frame(videoHeader()));
  s.write(h, frame(audioHeader()));
  for (let ts = 0; ts < 3000; ts += 500)
    s.write(h, frame(video(ts, ts % 2000 === 0), ts % 6000 === 0 ? mark(10, ts) : null));
  // The relay drops at owner time 3000 and comes back: the origin replays its GOP from 2000.
  s.detachPublisher(h);
  h = s.attachPublisher('relay-2', { marksFromSource: true })!;
  s.write(h, frame(videoHeader()));
  for (let ts = 2000; ts < 6000; ts += 500) s.write(h, frame(video(ts, ts % 2000 === 0)));
  s.write(h, frame(video(6000, true), mark(11, 6000)));
  s.write(h, frame(video(6500, false)));
  s.write(h, frame(video(12000, true), mark(12, 12000)));
  assert.deepEqual(
    listed(outputs, key).map((u) => u.split('/').pop()),
    ['e1-11.ts'],
    'segment 10 was interrupted by the restart: dropped, not listed with a replayed GOP inside',
  );
  hub.close();
  outputs.close();
});

test('a publisher back after the end: the playlist loses its ENDLIST at once', async () => {
  const { hub, outputs } = setup(10);
  const key = 'live/back';
  const s = hub.getOrCreate(key);
  s.addSubscriber(waitingViewer());
  let h = s.attachPublisher('p1')!;
  s.write(h, frame(videoHeader()));
  for (let ts = 0; ts <= 4000; ts += 500) s.write(h, frame(video(ts, ts % 2000 === 0)));
  s.detachPublisher(h);
  await new Promise((r) => setTimeout(r, 50));
  assert.match(outputs.get(key)!.livePlaylist!, /#EXT-X-ENDLIST/);
  h = s.attachPublisher('p2')!;
  s.write(h, frame(videoHeader()));
  assert.doesNotMatch(
    outputs.get(key)!.livePlaylist!,
    /#EXT-X-ENDLIST/,
    'live again before its first new segment',
  );
  hub.close();
  outputs.close();
});
