import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import {
  defineOutputFormat,
  defineStatefulFormat,
  EndReason,
  MediaKind,
  StreamHub,
  type IncomingFrame,
  type OutputFormat,
  type Sink,
  type StreamOptions,
  type StreamStartInfo,
} from '../../../libs/stream/index.ts';

let serializeCalls = 0;
/** 12-byte header (kind, timestamp as a double: output timestamps may pass 2^32) + payload. */
const HDR = 12;
const serialize = (m: { kind: number; timestampMs: number; payload: Buffer }): Buffer => {
  serializeCalls++;
  const b = Buffer.alloc(HDR + m.payload.length);
  b.writeUInt32BE(m.kind, 0);
  b.writeDoubleBE(m.timestampMs, 4);
  m.payload.copy(b, HDR);
  return b;
};
const fmt = defineOutputFormat('test', serialize);
const fmt2 = defineOutputFormat('test2', serialize);
const fmt3 = defineOutputFormat('test3', serialize);

/**
 * A sink that records what it got. `holdBytes` models a socket that does not drain; corks
 * nest like a socket's, and a write while corked waits for the uncork that ends the nesting:
 * `flushes` counts how many separate writes reached the "kernel".
 */
class RecordingSink implements Sink {
  format: OutputFormat = fmt;
  readonly id: string;
  corkDepth = 0;
  flushes = 0;
  private pending = 0;
  bufferedBytes = 0;
  started: StreamStartInfo | null = null;
  ended: EndReason | null = null;
  readonly got: Buffer[] = [];
  holdBytes = false;
  constructor(id: string) {
    this.id = id;
  }
  start(info: StreamStartInfo): void {
    this.started = info;
  }
  write(buf: Buffer): void {
    this.got.push(buf);
    if (this.holdBytes) this.bufferedBytes += buf.length;
    if (this.corkDepth > 0) this.pending++;
    else this.flushes++;
  }
  cork(): void {
    this.corkDepth++;
  }
  uncork(): void {
    if (this.corkDepth === 0) return;
    if (--this.corkDepth === 0 && this.pending > 0) {
      this.flushes++;
      this.pending = 0;
    }
  }
  end(reason: EndReason): void {
    this.ended = reason;
  }
  frames(): { kind: number; ts: number; tag: string }[] {
    return this.got.map((b) => ({
      kind: b.readUInt32BE(0),
      ts: b.readDoubleBE(4),
      tag: b.subarray(HDR).toString(),
    }));
  }
}

const opts: StreamOptions = {
  gopCache: true,
  gopCacheMaxBytes: 1 << 20,
  waitPublisherMs: 50,
  maxBufferedBytes: 100,
  stallTimeoutMs: 1000,
  writeCoalesceMs: 0,
};

const v = (ts: number, tag: string, key = false): IncomingFrame => ({
  kind: MediaKind.Video,
  timestampMs: ts,
  payload: Buffer.from(tag),
  isKeyFrame: key,
  isSequenceHeader: false,
});
const vsh = (ts: number): IncomingFrame => ({ ...v(ts, 'vsh'), isSequenceHeader: true });
const a = (ts: number, tag: string): IncomingFrame => ({ ...v(ts, tag), kind: MediaKind.Audio });

function newHub(o: Partial<StreamOptions> = {}): { hub: StreamHub; counters: Counters } {
  const counters = new Counters();
  return { hub: new StreamHub({ ...opts, ...o }, { log: silentLogger(), counters }), counters };
}

test('stream: one serialization per message shared by all viewers of a format', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const sinks = [1, 2, 3].map((i) => new RecordingSink(`s${i}`));
  for (const k of sinks) s.addSubscriber(k);
  serializeCalls = 0;
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  s.write(h, v(40, 'p1'));
  assert.equal(serializeCalls, 3);
  for (const k of sinks)
    assert.deepEqual(
      k.frames().map((f) => f.tag),
      ['vsh', 'k0', 'p1'],
    );
  assert.equal(sinks[0]!.got[1], sinks[2]!.got[1], 'same Buffer object, not a copy');
  hub.close();
});

test('stream: a late viewer gets sequence header then the GOP from its key frame', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  s.write(h, a(10, 'a0'));
  s.write(h, v(40, 'p1'));
  s.write(h, v(80, 'k1', true));
  s.write(h, a(90, 'a1'));
  s.write(h, v(120, 'p2'));
  const late = new RecordingSink('late');
  s.addSubscriber(late);
  assert.ok(late.started);
  assert.deepEqual(
    late.frames().map((f) => f.tag),
    ['vsh', 'k1', 'a1', 'p2'],
  );
  hub.close();
});

test('stream: GOP over its byte limit is dropped until the next key frame', () => {
  const { hub } = newHub({ gopCacheMaxBytes: 5 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  s.write(h, v(0, 'k0', true));
  s.write(h, v(40, 'p1'));
  s.write(h, v(80, 'p2')); // 6 bytes > 5: cache dropped
  const late = new RecordingSink('late');
  s.addSubscriber(late);
  assert.deepEqual(late.frames(), []);
  s.write(h, v(120, 'p3'));
  s.write(h, v(160, 'k1', true));
  assert.deepEqual(
    late.frames().map((f) => f.tag),
    ['k1'],
  );
  hub.close();
});

test('stream: second publisher is refused, first untouched', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h1 = s.attachPublisher('p1');
  assert.ok(h1);
  assert.equal(s.attachPublisher('p2'), null);
  assert.equal(s.publisherHandle?.id, 'p1');
  hub.close();
});

test('stream: a waiting viewer starts when the publisher comes, else ends not-found', async () => {
  const { hub, counters } = newHub();
  const s = hub.getOrCreate('live/a');
  const early = new RecordingSink('early');
  s.addSubscriber(early);
  assert.equal(early.started, null);
  const h = s.attachPublisher('p1')!;
  assert.ok(early.started);
  s.write(h, v(0, 'k0', true));
  assert.deepEqual(
    early.frames().map((f) => f.tag),
    ['k0'],
  );

  const other = hub.getOrCreate('live/none');
  const lost = new RecordingSink('lost');
  other.addSubscriber(lost);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(lost.ended, EndReason.NotFound);
  assert.equal(counters.get('viewer_not_found'), 1);
  assert.equal(hub.get('live/none'), undefined, 'idle stream forgotten');
  hub.close();
});

test('stream: publisher reconnect keeps viewers and output timestamps increasing', async () => {
  const { hub } = newHub({ waitPublisherMs: 200 });
  const s = hub.getOrCreate('live/a');
  const view = new RecordingSink('v');
  s.addSubscriber(view);
  let h = s.attachPublisher('p1')!;
  s.write(h, v(5000, 'k0', true));
  s.write(h, v(5040, 'p1'));
  s.detachPublisher(h);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(view.ended, null, 'still attached within the grace');
  h = s.attachPublisher('p2')!;
  s.write(h, vsh(0));
  s.write(h, v(0, 'p-before-key')); // skipped: after a switch a viewer resumes on a key frame
  s.write(h, v(0, 'k2', true));
  s.write(h, v(40, 'p3'));
  const f = view.frames();
  assert.deepEqual(
    f.map((x) => x.tag),
    ['k0', 'p1', 'vsh', 'k2', 'p3'],
  );
  for (let i = 1; i < f.length; i++)
    assert.ok(f[i]!.ts >= f[i - 1]!.ts, `ts went back at ${i}: ${f[i - 1]!.ts} -> ${f[i]!.ts}`);
  assert.ok(f[3]!.ts > 5040);
  s.detachPublisher(h);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(view.ended, EndReason.Unpublished);
  hub.close();
});

test('stream: a viewer over its byte budget drops video to the next key frame; audio resumes at once', () => {
  // Sizes: HDR + tag length; budget 40.
  const { hub, counters } = newHub({ maxBufferedBytes: 40 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const slow = new RecordingSink('slow');
  slow.holdBytes = true;
  const fast = new RecordingSink('fast');
  s.addSubscriber(slow);
  s.addSubscriber(fast);
  s.write(h, vsh(0)); // 15 queued
  s.write(h, v(0, 'k0', true)); // 29
  s.write(h, a(20, 'a0')); // 29 <= 40: sent, 43
  s.write(h, v(40, 'p1')); // 43 > 40: dropped
  s.write(h, a(60, 'a1')); // dropped
  s.write(h, v(80, 'p2')); // dropped
  assert.deepEqual(
    slow.frames().map((f) => f.tag),
    ['vsh', 'k0', 'a0'],
  );
  assert.equal(slow.bufferedBytes, 43);
  assert.equal(counters.get('viewer_dropped_frames'), 3);
  assert.equal(counters.get('viewer_drop_events'), 1);
  slow.bufferedBytes = 0; // drained, and reading fast from now on
  slow.holdBytes = false;
  s.write(h, a(100, 'a2')); // sound comes back at once
  s.write(h, v(120, 'p3')); // the picture waits for a key frame
  s.write(h, vsh(130)); // sequence headers always go through
  s.write(h, v(160, 'k1', true));
  s.write(h, v(200, 'p4'));
  assert.deepEqual(
    slow.frames().map((f) => f.tag),
    ['vsh', 'k0', 'a0', 'a2', 'vsh', 'k1', 'p4'],
  );
  assert.equal(counters.get('viewer_dropped_frames'), 3, 'waiting for a key frame is not dropping');
  assert.deepEqual(
    fast.frames().map((f) => f.tag),
    ['vsh', 'k0', 'a0', 'p1', 'a1', 'p2', 'a2', 'p3', 'vsh', 'k1', 'p4'],
  );
  hub.close();
});

test('stream: an audio-only stream never waits for video', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  s.write(h, a(0, 'a0'));
  const late = new RecordingSink('late');
  s.addSubscriber(late);
  s.write(h, a(20, 'a1'));
  s.write(h, a(40, 'a2'));
  assert.deepEqual(
    late.frames().map((f) => f.tag),
    ['a1', 'a2'],
  );
  hub.close();
});

test('stream: the start burst is the whole cached GOP even when it is bigger than the budget', () => {
  const { hub, counters } = newHub({ maxBufferedBytes: 40 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  for (let i = 1; i <= 5; i++) s.write(h, v(i * 40, `p${i}`)); // GOP: 6 x 14 = 84 bytes > 40
  const late = new RecordingSink('late');
  late.holdBytes = true; // reads nothing yet
  s.addSubscriber(late);
  assert.deepEqual(
    late.frames().map((f) => f.tag),
    ['vsh', 'k0', 'p1', 'p2', 'p3', 'p4', 'p5'],
  );
  assert.equal(late.flushes, 1, 'the burst leaves as one write');
  // Live frames after the burst have the whole budget of their own: 14 + 14 + 14 > 40 only at the fourth.
  for (let i = 6; i <= 9; i++) s.write(h, v(i * 40, `p${i}`));
  assert.deepEqual(
    late
      .frames()
      .map((f) => f.tag)
      .slice(7),
    ['p6', 'p7', 'p8'],
  );
  assert.equal(counters.get('viewer_dropped_frames'), 1);
  // Once the socket drained the burst, the budget counts everything queued again.
  late.bufferedBytes = 42; // p6..p8 still queued, the burst gone: 42 > 40
  s.write(h, v(400, 'p10'));
  assert.equal(counters.get('viewer_dropped_frames'), 2);
  hub.close();
});

test('stream: the GOP cache limit counts every serialized copy the cache holds', () => {
  const { hub } = newHub({ gopCacheMaxBytes: 300 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const one = new RecordingSink('one');
  const two = Object.assign(new RecordingSink('two'), { format: fmt2 });
  s.addSubscriber(one);
  s.addSubscriber(two);
  const x = 'x'.repeat(38); // payload 40 with the index; each format's copy 52: 144 per frame held
  s.write(h, v(0, `k0${x}`, true));
  s.write(h, v(40, `p1${x}`));
  assert.equal(s.gopCacheBytes, 2 * (40 + 52 + 52));
  const late = new RecordingSink('late');
  s.addSubscriber(late);
  assert.equal(late.frames().length, 2, 'a GOP within the limit is served');
  // A viewer of a third format makes the cache serialize again: 2 x 196 = 392 > 300, dropped.
  const third = Object.assign(new RecordingSink('third'), { format: fmt3 });
  s.addSubscriber(third);
  assert.equal(third.frames().length, 2, 'the viewer that made the copies still gets its burst');
  assert.equal(s.gopCacheBytes, 0);
  const after = new RecordingSink('after');
  s.addSubscriber(after);
  assert.deepEqual(after.frames(), [], 'cache dropped until the next key frame');
  // With three formats, one more frame of the next GOP (3 x 196 = 588) does not fit either.
  s.write(h, v(80, `k1${x}`, true));
  assert.equal(s.gopCacheBytes, 40 + 52 * 3);
  s.write(h, v(120, `p2${x}`));
  assert.equal(s.gopCacheBytes, 0);
  hub.close();
});

test('stream: metadata and headers of a new publisher wait for its first frame to fix the timeline', () => {
  const { hub } = newHub({ waitPublisherMs: 1000 });
  const s = hub.getOrCreate('live/a');
  const view = new RecordingSink('v');
  s.addSubscriber(view);
  let h = s.attachPublisher('p1')!;
  s.write(h, v(0, 'k0', true));
  s.write(h, v(1000, 'p1'));
  s.detachPublisher(h);
  // An edge re-pulling a stream that has run for an hour: headers at 0, frames at one hour.
  h = s.attachPublisher('p2')!;
  s.write(h, { ...v(0, 'meta'), kind: MediaKind.Data });
  s.write(h, vsh(0));
  s.write(h, a(3_600_000, 'a0'));
  s.write(h, v(3_600_010, 'k1', true));
  s.write(h, v(3_600_050, 'p2'));
  const f = view.frames();
  assert.deepEqual(
    f.map((x) => [x.tag, x.ts]),
    [
      ['k0', 0],
      ['p1', 1000],
      ['meta', 1040],
      ['vsh', 1040],
      ['a0', 1040],
      ['k1', 1050],
      ['p2', 1090],
    ],
  );
  hub.close();
});

test('stream: a first publisher whose headers are stamped 0 and frames 25 days in plays on (no freeze)', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const view = new RecordingSink('v');
  s.addSubscriber(view);
  const h = s.attachPublisher('p1')!;
  const T = 25 * 86_400_000; // past 2^31 ms: a naive 32-bit unwrap would take it for a step back
  s.write(h, { ...v(0, 'meta'), kind: MediaKind.Data });
  s.write(h, vsh(0));
  for (let i = 0; i < 4; i++) s.write(h, v(T + i * 40, `f${i}`, i === 0));
  s.write(h, vsh(0)); // a header again mid-stream stays at the end of the timeline
  s.write(h, v(T + 160, 'f4'));
  assert.deepEqual(
    view.frames().map((x) => [x.tag, x.ts]),
    [
      ['meta', 0],
      ['vsh', 0],
      ['f0', T],
      ['f1', T + 40],
      ['f2', T + 80],
      ['f3', T + 120],
      ['vsh', T + 120],
      ['f4', T + 160],
    ],
  );
  hub.close();
});

test('stream: only small headers skip the byte budget (a publisher may label anything a header)', () => {
  const { hub, counters } = newHub({ maxBufferedBytes: 40 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const slow = new RecordingSink('slow');
  slow.holdBytes = true;
  s.addSubscriber(slow);
  s.write(h, v(0, 'k0', true));
  s.write(h, v(40, 'x'.repeat(40))); // over the budget from here on
  const before = slow.got.length;
  s.write(h, vsh(80)); // small: still sent
  s.write(h, { ...vsh(90), payload: Buffer.alloc(70 * 1024) }); // big "header": budgeted
  assert.equal(slow.got.length, before + 1);
  assert.equal(counters.get('viewer_dropped_frames'), 1);
  hub.close();
});

test('stream: 32-bit publisher timestamps that wrap keep the output moving, across a publisher switch too', () => {
  const { hub } = newHub({ waitPublisherMs: 1000 });
  const s = hub.getOrCreate('live/a');
  const view = new RecordingSink('v');
  s.addSubscriber(view);
  const W = 0x1_0000_0000;
  let h = s.attachPublisher('p1')!;
  s.write(h, v(W - 80, 'k0', true));
  s.write(h, a(W - 90, 'a0')); // audio a little behind video: a small step back, not a wrap
  s.write(h, v(W - 40, 'p1'));
  s.write(h, v(0, 'p2')); // wrapped
  s.write(h, v(40, 'p3'));
  s.detachPublisher(h);
  h = s.attachPublisher('p2')!;
  s.write(h, v(W - 20, 'k1', true));
  s.write(h, v(20, 'p4')); // this publisher wraps too
  const f = view.frames().map((x) => [x.tag, x.ts - (W - 80)]);
  assert.deepEqual(f, [
    ['k0', 0],
    ['a0', -10],
    ['p1', 40],
    ['p2', 80],
    ['p3', 120],
    ['k1', 160],
    ['p4', 200],
  ]);
  hub.close();
});

test('stream: a viewer whose queue never drains is ended as stalled', () => {
  const { hub, counters } = newHub({ maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const stuck = new RecordingSink('stuck');
  stuck.holdBytes = true;
  const ok = new RecordingSink('ok');
  s.addSubscriber(stuck);
  s.addSubscriber(ok);
  s.write(h, v(0, 'k0', true));
  const t0 = Date.now();
  s.sweep(t0);
  s.sweep(t0 + 500);
  assert.equal(stuck.ended, null);
  s.sweep(t0 + 2000);
  assert.equal(stuck.ended, EndReason.Stalled);
  assert.equal(ok.ended, null);
  assert.equal(counters.get('viewer_stalled_disconnects'), 1);
  assert.equal(s.subscriberCount, 1);
  hub.close();
});

test('stream: one coalescing window gives each viewer one write; a sink that opts out is never held', async () => {
  const { hub } = newHub({ writeCoalesceMs: 20 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const viewer = new RecordingSink('viewer');
  const relay = Object.assign(new RecordingSink('relay'), { coalesce: false });
  s.addSubscriber(viewer);
  s.addSubscriber(relay);
  s.write(h, v(0, 'k0', true));
  s.write(h, a(20, 'a0'));
  s.write(h, v(40, 'p1'));
  assert.equal(viewer.flushes, 0, 'held for the window');
  assert.equal(relay.flushes, 3, 'every frame at once');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(viewer.flushes, 1, 'three frames, one write');
  assert.equal(viewer.corkDepth, 0);
  assert.equal(hub.flusher.heldCount, 0);
  hub.close();
});

test('stream: a viewer that leaves mid-window is uncorked too (its connection keeps talking)', async () => {
  const { hub } = newHub({ writeCoalesceMs: 20 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const viewer = new RecordingSink('viewer');
  const sub = s.addSubscriber(viewer);
  s.write(h, v(0, 'k0', true));
  assert.equal(viewer.corkDepth, 1);
  s.removeSubscriber(sub); // closeStream / deleteStream during the window
  viewer.write(Buffer.from('createStream result')); // a later reply on the same connection
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(viewer.corkDepth, 0, 'uncorked at the end of the window');
  assert.equal(viewer.flushes, 1, 'the frame and the reply left together');
  hub.close();
});

test('stream: one flush timer serves every stream of the hub', async () => {
  const { hub } = newHub({ writeCoalesceMs: 20 });
  const views: RecordingSink[] = [];
  for (const key of ['live/a', 'live/b', 'live/c']) {
    const s = hub.getOrCreate(key);
    const h = s.attachPublisher(key)!;
    const view = new RecordingSink(key);
    views.push(view);
    s.addSubscriber(view);
    s.write(h, v(0, 'k0', true));
    s.write(h, v(40, 'p1'));
  }
  assert.equal(hub.flusher.heldCount, 3);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(hub.flusher.heldCount, 0);
  assert.deepEqual(
    views.map((x) => [x.flushes, x.corkDepth]),
    [
      [1, 0],
      [1, 0],
      [1, 0],
    ],
  );
  hub.close();
});

test('stream: a tap sees every message in order, publisher changes, and is closed when the stream goes idle', () => {
  const { hub } = newHub();
  const events: string[] = [];
  hub.onStreamCreated = (st) =>
    st.addTap({
      onPublisherStart: (id) => events.push(`start:${id}`),
      onMessage: (m) => events.push(`${m.payload.toString()}@${m.timestampMs}`),
      onPublisherStop: () => events.push('stop'),
      close: () => events.push('close'),
    });
  const s = hub.getOrCreate('live/t');
  const viewer = new RecordingSink('v');
  const sub = s.addSubscriber(viewer);
  const h = s.attachPublisher('p1')!;
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  s.write(h, a(10, 'a0'));
  s.detachPublisher(h);
  const h2 = s.attachPublisher('p2')!;
  s.write(h2, v(500, 'k1', true));
  s.detachPublisher(h2);
  assert.deepEqual(events, ['start:p1', 'vsh@0', 'k0@0', 'a0@10', 'stop', 'start:p2', 'k1@50', 'stop']);
  s.removeSubscriber(sub);
  assert.equal(events.at(-1), 'close', 'closed once the stream has neither publisher nor viewers');
  assert.equal(hub.get('live/t'), undefined);
  hub.close();
});

test('stream: a passive viewer is counted and started and ended, but sent nothing', () => {
  const { hub } = newHub({ waitPublisherMs: 20 });
  const s = hub.getOrCreate('live/p');
  const h = s.attachPublisher('p1')!;
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  const passive = Object.assign(new RecordingSink('hls'), { passive: true });
  const active = new RecordingSink('flv');
  s.addSubscriber(passive);
  s.addSubscriber(active);
  s.write(h, v(40, 'p1'));
  assert.equal(s.subscriberCount, 2);
  assert.ok(passive.started, 'start() tells the passive viewer the stream is live');
  assert.deepEqual(passive.got, [], 'no burst and no frames');
  assert.deepEqual(
    active.frames().map((f) => f.tag),
    ['vsh', 'k0', 'p1'],
  );
  s.detachPublisher(h);
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      assert.equal(passive.ended, EndReason.Unpublished);
      hub.close();
      resolve();
    }, 60),
  );
});

/** A stateful format like MPEG-TS: each message's bytes carry a per-stream counter (like continuity counters). */
let statesMade = 0;
const counted = defineStatefulFormat('counted', {
  newState: () => {
    statesMade++;
    return { n: 0 };
  },
  serialize: (m, st: { n: number }) =>
    m.isSequenceHeader ? Buffer.alloc(0) : Buffer.from(`${m.payload.toString()}#${st.n++}`),
  preamble: (st, atKey) => Buffer.from(`pre#${st.n}${atKey ? 'k' : ''}`),
});

class CountedSink extends RecordingSink {
  override format = counted;
  preamble: string | null = null;
  override start(info: StreamStartInfo): void {
    super.start(info);
    this.preamble = info.preamble?.toString() ?? null;
  }
  labels(): string[] {
    return this.got.map((b) => b.toString());
  }
}

test('stream: a stateful format serializes in timeline order, once per stream, even frames a slow viewer skips', () => {
  const { hub } = newHub({ maxBufferedBytes: 3 });
  statesMade = 0;
  const s = hub.getOrCreate('live/ts');
  const h = s.attachPublisher('p1')!;
  const slow = new CountedSink('slow');
  slow.holdBytes = true;
  s.addSubscriber(slow);
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true)); // sent: slow is at 0 bytes
  s.write(h, v(40, 'p1')); // skipped: over budget
  s.write(h, a(50, 'a1')); // skipped
  s.write(h, v(80, 'p2')); // skipped
  assert.deepEqual(slow.labels(), ['k0#0'], 'the header produced no bytes and nothing was sent for it');
  const late = new CountedSink('late');
  s.addSubscriber(late);
  assert.equal(
    late.preamble,
    'pre#4k',
    'preamble from the same state, after the four frames, told the burst starts at a key frame',
  );
  assert.deepEqual(
    late.labels(),
    ['k0#0', 'p1#1', 'a1#2', 'p2#3'],
    'the skipped frames were serialized in order',
  );
  assert.equal(statesMade, 1, 'one state per stream');
  hub.close();
});
