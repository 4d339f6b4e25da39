// Viewers that share a coalescing window's bytes (Sink.sharesWindow) must see exactly what a
// viewer served message by message sees: the same bytes in the same order, one write per window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import {
  defineOutputFormat,
  EndReason,
  MediaKind,
  StreamHub,
  type IncomingFrame,
  type Sink,
  type StreamOptions,
  type StreamStartInfo,
} from '../../../libs/stream/index.ts';

let serializeCalls = 0;
/** Length-prefixed records, so a write holding several messages can be split again. */
const fmt = defineOutputFormat('lp', (m) => {
  serializeCalls++;
  const tag = Buffer.from(`${m.kind}:${m.timestampMs}:${m.payload.toString()}`);
  const b = Buffer.alloc(4 + tag.length);
  b.writeUInt32BE(tag.length, 0);
  tag.copy(b, 4);
  return b;
});

class LpSink implements Sink {
  readonly format = fmt;
  readonly id: string;
  readonly sharesWindow: boolean;
  readonly writes: Buffer[] = [];
  bufferedBytes = 0;
  corkDepth = 0;
  started = false;
  ended: EndReason | null = null;
  constructor(id: string, shares: boolean) {
    this.id = id;
    this.sharesWindow = shares;
  }
  start(_info: StreamStartInfo): void {
    this.started = true;
  }
  write(buf: Buffer): void {
    this.writes.push(buf);
  }
  cork(): void {
    this.corkDepth++;
  }
  uncork(): void {
    if (this.corkDepth > 0) this.corkDepth--;
  }
  end(reason: EndReason): void {
    this.ended = reason;
  }
  /** Every record received, in order. */
  records(): string[] {
    const out: string[] = [];
    for (const b of this.writes) {
      for (let o = 0; o < b.length;) {
        const n = b.readUInt32BE(o);
        out.push(b.subarray(o + 4, o + 4 + n).toString());
        o += 4 + n;
      }
    }
    return out;
  }
}

const opts: StreamOptions = {
  gopCache: true,
  gopCacheMaxBytes: 1 << 20,
  waitPublisherMs: 50,
  maxBufferedBytes: 100,
  stallTimeoutMs: 1000,
  writeCoalesceMs: 20,
};

const frame = (kind: MediaKind, ts: number, tag: string, key = false, header = false): IncomingFrame => ({
  kind,
  timestampMs: ts,
  payload: Buffer.from(tag),
  isKeyFrame: key,
  isSequenceHeader: header,
});
const v = (ts: number, tag: string, key = false): IncomingFrame => frame(MediaKind.Video, ts, tag, key);
const a = (ts: number, tag: string): IncomingFrame => frame(MediaKind.Audio, ts, tag);

function newHub(o: Partial<StreamOptions> = {}): { hub: StreamHub; counters: Counters } {
  const counters = new Counters();
  return { hub: new StreamHub({ ...opts, ...o }, { log: silentLogger(), counters }), counters };
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('shared window: steady viewers get the window as one shared write, serialized once per message', async () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p')!;
  s.write(h, frame(MediaKind.Video, 0, 'vsh', false, true));
  s.write(h, v(0, 'k0', true));
  const sharing = [1, 2, 3].map((i) => new LpSink(`s${i}`, true));
  const plain = new LpSink('plain', false);
  for (const k of [...sharing, plain]) s.addSubscriber(k);
  await tick(40); // the start bursts are out; the next window finds them steady
  const before = sharing.map((k) => k.writes.length);
  serializeCalls = 0;
  s.write(h, a(20, 'a1'));
  s.write(h, v(40, 'p1'));
  s.write(h, a(43, 'a2'));
  assert.equal(serializeCalls, 3, 'one serialization per message, whatever the viewers');
  assert.deepEqual(
    sharing.map((k) => k.writes.length),
    before,
    'nothing written before the window ends',
  );
  assert.equal(sharing[0]!.corkDepth, 0, 'a rider is never corked');
  await tick(40);
  for (const k of sharing) assert.equal(k.writes.length, before[0]! + 1, 'one write for the window');
  assert.equal(sharing[0]!.writes.at(-1), sharing[2]!.writes.at(-1), 'the same Buffer for every rider');
  for (const k of sharing) assert.deepEqual(k.records(), plain.records());
  assert.equal(plain.corkDepth, 0);
  hub.close();
});

test('shared window: a viewer joining mid-window, a header mid-window and a leaving viewer keep every stream of bytes whole', async () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p')!;
  s.write(h, frame(MediaKind.Video, 0, 'vsh', false, true));
  s.write(h, v(0, 'k0', true));
  const early = new LpSink('early', true);
  const ref = new LpSink('ref', false);
  s.addSubscriber(early);
  s.addSubscriber(ref);
  await tick(40);
  s.write(h, v(40, 'p1'));
  const late = new LpSink('late', true);
  const lateRef = new LpSink('late-ref', false);
  s.addSubscriber(late); // burst now, the rest of this window message by message
  s.addSubscriber(lateRef);
  const leaving = new LpSink('leaving', true);
  const leavingSub = s.addSubscriber(leaving);
  s.write(h, a(60, 'a1'));
  s.write(h, frame(MediaKind.Video, 70, 'vsh2', false, true)); // ends the window early
  s.write(h, v(80, 'p2'));
  await tick(40);
  s.write(h, v(120, 'p3'));
  s.removeSubscriber(leavingSub);
  const leavingCount = leaving.writes.length;
  await tick(40);
  assert.deepEqual(early.records(), ref.records());
  assert.deepEqual(late.records(), lateRef.records());
  const lateTags = late.records().map((r) => r.split(':')[2]);
  // Its start burst (k0 p1), then the rest of the window it joined in, then the rest.
  assert.deepEqual(lateTags.slice(-4), ['a1', 'vsh2', 'p2', 'p3']);
  assert.equal(leaving.writes.length, leavingCount, 'nothing for a viewer that left during the window');
  hub.close();
});

test('shared window: a rider over its budget drops the window, waits for a key frame, then rides again', async () => {
  const { hub, counters } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p')!;
  s.write(h, v(0, 'k0', true));
  const slow = new LpSink('slow', true);
  const sub = s.addSubscriber(slow);
  await tick(40);
  // The socket stopped draining: everything since the start burst is still queued.
  const big = 'x'.repeat(200);
  s.write(h, v(40, `p1${big}`));
  await tick(40);
  slow.bufferedBytes = sub.bytesSent;
  assert.equal(counters.get('viewer_dropped_frames'), 0, 'the first window fits the budget');
  s.write(h, v(60, 'p2'));
  s.write(h, a(70, 'a1'));
  await tick(40);
  assert.equal(counters.get('viewer_dropped_frames'), 2);
  assert.equal(counters.get('viewer_drop_events'), 1);
  assert.equal(sub.needKeyFrame, true);
  assert.equal(sub.droppedFrames, 2);
  slow.bufferedBytes = 0; // drained
  s.write(h, v(80, 'p3')); // not a key frame: skipped
  s.write(h, a(90, 'a2')); // sound goes on
  s.write(h, v(120, 'k1', true));
  await tick(40);
  s.write(h, v(160, 'p4'));
  await tick(40);
  const tags = slow.records().map((r) => r.split(':')[2]);
  assert.deepEqual(tags.slice(-3), ['a2', 'k1', 'p4']);
  assert.ok(!tags.includes('p2') && !tags.includes('p3') && !tags.includes('a1'), tags.join(' '));
  assert.equal(sub.needKeyFrame, false);
  hub.close();
});

test('shared window: a new publisher flushes the window first; riders wait for its key frame', async () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p')!;
  s.write(h, v(0, 'k0', true));
  const k = new LpSink('k', true);
  s.addSubscriber(k);
  await tick(40);
  s.write(h, v(40, 'p1'));
  s.detachPublisher(h);
  assert.ok(
    k.records().some((r) => r.endsWith(':p1')),
    'the window went out with the publisher',
  );
  const h2 = s.attachPublisher('p2')!;
  s.write(h2, v(0, 'x1')); // no key frame yet
  s.write(h2, v(40, 'k2', true));
  await tick(40);
  const tags = k.records().map((r) => r.split(':')[2]);
  assert.ok(!tags.includes('x1'), tags.join(' '));
  assert.ok(tags.includes('k2'), tags.join(' '));
  hub.close();
});

test('shared window: shutdown writes the open window before ending the viewers', () => {
  const { hub } = newHub();
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p')!;
  s.write(h, v(0, 'k0', true));
  const k = new LpSink('k', true);
  s.addSubscriber(k);
  hub.flusher.flush();
  s.write(h, v(40, 'p1'));
  hub.close();
  assert.ok(k.records().some((r) => r.endsWith(':p1')));
  assert.equal(k.ended, EndReason.Shutdown);
});

test('shared window: random traffic, joins, leaves and stalls never reorder, lose or repeat bytes for a steady viewer', async () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (const windowMs of [0, 5]) {
    const { hub } = newHub({ writeCoalesceMs: windowMs, maxBufferedBytes: 1 << 30 });
    const s = hub.getOrCreate('live/r');
    const h = s.attachPublisher('p')!;
    const pairs: [LpSink, LpSink][] = [];
    const subs: ReturnType<typeof s.addSubscriber>[] = [];
    let ts = 0;
    for (let step = 0; step < 400; step++) {
      const r = rnd();
      ts += 10;
      if (r < 0.05) s.write(h, frame(MediaKind.Video, ts, `sh${step}`, false, true));
      else if (r < 0.15) s.write(h, v(ts, `k${step}`, true));
      else if (r < 0.55) s.write(h, v(ts, `p${step}`));
      else if (r < 0.85) s.write(h, a(ts, `a${step}`));
      else if (r < 0.9) {
        const pair: [LpSink, LpSink] = [new LpSink(`x${step}`, true), new LpSink(`y${step}`, false)];
        pairs.push(pair);
        subs.push(s.addSubscriber(pair[0]), s.addSubscriber(pair[1]));
      } else if (r < 0.92 && subs.length > 2) {
        const i = Math.floor(rnd() * (subs.length / 2)) * 2;
        s.removeSubscriber(subs[i]!);
        s.removeSubscriber(subs[i + 1]!);
      } else {
        await tick(windowMs + 1);
      }
    }
    await tick(windowMs + 5);
    assert.ok(pairs.length > 5);
    for (const [x, y] of pairs) {
      const xs = x.records();
      const ys = y.records();
      if (subs.find((q) => q.sink === x)!.attached) {
        assert.deepEqual(xs, ys, `window ${windowMs} ms, ${x.id}`);
      } else {
        // A viewer that leaves during a window does not get that window's frames: a prefix.
        assert.deepEqual(xs, ys.slice(0, xs.length), `window ${windowMs} ms, ${x.id} (left)`);
        assert.ok(ys.length - xs.length <= 40, `${x.id}: ${ys.length - xs.length} frames short`);
      }
    }
    hub.close();
  }
});
