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
const fmt = defineOutputFormat('test', (m) => {
  serializeCalls++;
  const b = Buffer.alloc(8 + m.payload.length);
  b.writeUInt32BE(m.kind, 0);
  b.writeUInt32BE(m.timestampMs, 4);
  m.payload.copy(b, 8);
  return b;
});

/** A sink that records what it got; `buffered` simulates a socket that does not drain. */
class RecordingSink implements Sink {
  readonly format = fmt;
  readonly id: string;
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
  }
  cork(): void {}
  uncork(): void {}
  end(reason: EndReason): void {
    this.ended = reason;
  }
  frames(): { kind: number; ts: number; tag: string }[] {
    return this.got.map((b) => ({
      kind: b.readUInt32BE(0),
      ts: b.readUInt32BE(4),
      tag: b.subarray(8).toString(),
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

test('stream: a viewer over its byte budget drops to the next key frame; others unaffected', () => {
  const { hub, counters } = newHub({ maxBufferedBytes: 30 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  const slow = new RecordingSink('slow');
  slow.holdBytes = true;
  const fast = new RecordingSink('fast');
  s.addSubscriber(slow);
  s.addSubscriber(fast);
  s.write(h, vsh(0));
  s.write(h, v(0, 'k0', true));
  for (let i = 1; i <= 5; i++) s.write(h, v(i * 40, `p${i}`));
  assert.equal(fast.got.length, 7);
  assert.ok(slow.got.length < 7);
  assert.ok(counters.get('viewer_dropped_frames') > 0);
  slow.bufferedBytes = 0; // drained
  s.write(h, v(240, 'p6')); // still waiting for a key frame
  s.write(h, vsh(250)); // sequence headers always go through
  s.write(h, v(280, 'k1', true));
  const tags = slow.frames().map((f) => f.tag);
  assert.ok(!tags.includes('p6'));
  assert.deepEqual(tags.slice(-2), ['vsh', 'k1']);
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

test('stream: coalescing corks ordinary viewers for the window but never a sink that opts out', async () => {
  const { hub } = newHub({ writeCoalesceMs: 20 });
  const s = hub.getOrCreate('live/a');
  const h = s.attachPublisher('p1')!;
  class CountingSink extends RecordingSink {
    corks = 0;
    uncorks = 0;
    override cork(): void {
      this.corks++;
    }
    override uncork(): void {
      this.uncorks++;
    }
  }
  const viewer = new CountingSink('viewer');
  const relay = Object.assign(new CountingSink('relay'), { coalesce: false });
  s.addSubscriber(viewer);
  s.addSubscriber(relay);
  const joinCorks = viewer.corks; // the start burst corks each new viewer once, itself
  s.write(h, v(0, 'k0', true));
  s.write(h, v(40, 'p1'));
  assert.equal(viewer.corks - joinCorks, 1, 'one cork for the whole window');
  assert.equal(relay.corks, 1, 'only its own start burst');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(viewer.uncorks, viewer.corks, 'balanced after the window');
  assert.equal(relay.uncorks, relay.corks);
  assert.deepEqual(
    relay.frames().map((f) => f.tag),
    ['k0', 'p1'],
  );
  hub.close();
});
