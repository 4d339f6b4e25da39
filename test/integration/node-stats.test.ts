import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { metrics } from './helpers/net.ts';
import { getJson, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// What the soak reads from every media node: memory, uptime and event-loop delay as gauges,
// and the node's own session counts, which must follow viewers and publishers both ways.

interface Stats {
  uptimeMs: number;
  memory: { rssBytes: number; heapUsedBytes: number };
  sessions: Record<string, number>;
  gauges: Record<string, number>;
}

let server: SluiceProcess;
let media: string;
const children: Child[] = [];

before(async () => {
  media = await makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 15, gop: 15, videoKbps: 200 });
  server = await startSluice();
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

const stats = (): Promise<Stats> => getJson<Stats>(`${server.api}/api/v1/stats`);

test('/metrics and /api/v1/stats carry event-loop delay, memory and uptime gauges', async () => {
  // The delay gauges describe the last full 10 s window: non-zero once one has passed.
  const p99 = await waitFor(
    async () =>
      (await metrics(server.api)).find(
        (m) => m.name === 'sluice_event_loop_delay_p99_seconds' && m.value > 0,
      ),
    15_000,
    'an event-loop delay window',
  );
  assert.ok(p99.value < 1, `p99 ${p99.value} s`);
  const m = await metrics(server.api);
  const gauge = (name: string): number | undefined => m.find((s) => s.name === `sluice_${name}`)?.value;
  for (const name of ['event_loop_delay_p50_seconds', 'event_loop_delay_max_seconds'])
    assert.ok(gauge(name)! >= 0, name);
  assert.ok(gauge('process_resident_memory_bytes')! > 10e6);
  assert.ok(gauge('process_heap_used_bytes')! > 1e6);
  assert.ok(gauge('process_uptime_seconds')! >= 10);
  // 0 until the process's first full GC; present from the start.
  assert.ok(gauge('process_heap_after_gc_bytes')! >= 0);
  const s = await stats();
  assert.ok(s.gauges.event_loop_delay_p99_ms! > 0);
  assert.ok(Math.abs(s.gauges.process_uptime_seconds! * 1000 - s.uptimeMs) < 2000);
});

test('session counts in stats follow a publisher and a viewer, and return to zero', async () => {
  assert.deepEqual((await stats()).sessions, { publisher: 0, player: 0, relay: 0 });
  const pub = publish(media, `${server.rtmp}/live/stats`, { loop: true });
  children.push(pub);
  await waitFor(async () => (await stats()).sessions.publisher === 1, 8000, 'the publisher counted');
  const viewer = httpFlv(`${server.http}/live/stats.flv`);
  await waitFor(() => viewer.videoFrames().length > 0, 8000, 'the viewer playing');
  assert.deepEqual((await stats()).sessions, { publisher: 1, player: 1, relay: 0 });
  viewer.stop();
  await waitFor(async () => (await stats()).sessions.player === 0, 5000, 'the viewer uncounted');
  await pub.kill();
  await waitFor(async () => (await stats()).sessions.publisher === 0, 5000, 'the publisher uncounted');
});
