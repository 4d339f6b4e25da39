import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpFlv, wsFlv, ffmpegPlayer, type FlvCollector } from './helpers/flv-client.ts';
import { parseExposition, promtoolCheck, valueOf, type Family } from './helpers/exposition.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { getJson, sleep, startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// /metrics of a real standalone node with a real ffmpeg publisher and real players: gauges
// follow viewers by protocol, byte counters grow at the stream's rate, the exposition is valid
// (our strict parser and promtool), and /api/v1/stats is plain JSON.

let server: SluiceProcess;
let media: string;
const children: Child[] = [];
const players: FlvCollector[] = [];
const VIDEO_KBPS = 400;

before(async () => {
  media = await makeTestFlv({
    durationS: 4,
    width: 320,
    height: 180,
    fps: 25,
    gop: 25,
    videoKbps: VIDEO_KBPS,
  });
  server = await startSluice({ ...TEST_CONFIG, metrics: { perStream: { enabled: true, maxStreams: 1 } } });
});

after(async () => {
  for (const p of players) p.stop();
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

async function scrape(): Promise<Map<string, Family>> {
  const r = await fetch(`${server.api}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await r.text());
}

test('an idle node exposes gauges, process metrics and HELP for every family; promtool agrees', async () => {
  const text = await (await fetch(`${server.api}/metrics`)).text();
  const fams = parseExposition(text);
  for (const f of fams.values()) assert.ok(f.help && f.type, f.name);
  for (const name of [
    'sluice_streams',
    'sluice_publishers',
    'sluice_viewers',
    'sluice_connections',
    'sluice_received_bytes_total',
    'sluice_sent_bytes_total',
    'sluice_input_budget_bytes',
    'sluice_ready',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_gc_duration_seconds',
  ])
    assert.ok(fams.has(name), name);
  assert.equal(valueOf(fams, 'sluice_viewers', { protocol: 'http-flv' }), 0);
  assert.equal(valueOf(fams, 'sluice_ready'), 1);
  const checked = promtoolCheck(text);
  if (checked) assert.ok(checked.ok, checked.output);
});

test('viewers and connections by protocol, bytes at about the bitrate, per-stream series capped', async () => {
  const pub = publish(media, `${server.rtmp}/live/m1`, { loop: true });
  children.push(pub);
  await waitFor(async () => valueOf(await scrape(), 'sluice_publishers') === 1, 10_000, 'the publisher');
  const flv = [httpFlv(`${server.http}/live/m1.flv`), httpFlv(`${server.http}/live/m1.flv`)];
  const ws = wsFlv(`${server.ws}/live/m1.flv`);
  const rtmp = ffmpegPlayer(`${server.rtmp}/live/m1`);
  // A second stream: over maxStreams 1, it gets no per-stream series.
  const other = httpFlv(`${server.http}/live/zz-waiting.flv`);
  players.push(...flv, ws, rtmp, other);
  await waitFor(
    () => [...flv, ws, rtmp].every((p) => p.videoFrames().length > 0),
    15_000,
    'every player receiving video',
  );
  let f = await scrape();
  assert.equal(valueOf(f, 'sluice_viewers', { protocol: 'http-flv' }), 3); // two playing, one waiting
  assert.equal(valueOf(f, 'sluice_viewers', { protocol: 'ws-flv' }), 1);
  assert.equal(valueOf(f, 'sluice_viewers', { protocol: 'rtmp' }), 1);
  assert.equal(valueOf(f, 'sluice_connections', { protocol: 'http' }), 3);
  assert.equal(valueOf(f, 'sluice_connections', { protocol: 'ws' }), 1);
  assert.equal(valueOf(f, 'sluice_connections', { protocol: 'rtmp' }), 2); // publisher and player
  assert.equal(valueOf(f, 'sluice_streams'), 2);
  assert.equal(valueOf(f, 'sluice_stream_viewers', { stream: 'live/m1' }), 4);
  assert.equal(f.get('sluice_stream_viewers')!.samples.length, 1, 'one stream with series');
  assert.equal(valueOf(f, 'sluice_stream_series_omitted'), 1);
  assert.equal(valueOf(f, 'sluice_play_started_total', { proto: 'http-flv' }), 3);

  // Byte rates over 4 s: what came in at about the file's bitrate, each flv viewer about the same.
  const t0 = performance.now();
  const in0 = valueOf(f, 'sluice_received_bytes_total');
  const flv0 = valueOf(f, 'sluice_sent_bytes_total', { protocol: 'http-flv' });
  const rtmp0 = valueOf(f, 'sluice_sent_bytes_total', { protocol: 'rtmp' });
  await sleep(4000);
  f = await scrape();
  const s = (performance.now() - t0) / 1000;
  const inKbps = ((valueOf(f, 'sluice_received_bytes_total') - in0) * 8) / 1000 / s;
  const flvKbps = ((valueOf(f, 'sluice_sent_bytes_total', { protocol: 'http-flv' }) - flv0) * 8) / 1000 / s;
  const rtmpKbps = ((valueOf(f, 'sluice_sent_bytes_total', { protocol: 'rtmp' }) - rtmp0) * 8) / 1000 / s;
  // The encoder's rate control is loose over 4 s (and audio adds ~128 kbps): a wide band.
  assert.ok(inKbps > VIDEO_KBPS * 0.5 && inKbps < VIDEO_KBPS * 2.5, `in ${inKbps.toFixed(0)} kbps`);
  assert.ok(flvKbps > inKbps * 1.6 && flvKbps < inKbps * 2.6, `2 flv viewers ${flvKbps.toFixed(0)} kbps`);
  assert.ok(rtmpKbps > inKbps * 0.8 && rtmpKbps < inKbps * 1.3, `rtmp viewer ${rtmpKbps.toFixed(0)} kbps`);
  console.log(
    `received ${inKbps.toFixed(0)} kbps; sent http-flv ${flvKbps.toFixed(0)}, rtmp ${rtmpKbps.toFixed(0)}`,
  );

  for (const p of players) p.stop();
  await waitFor(
    async () => valueOf(await scrape(), 'sluice_viewers') === 0,
    5000,
    'viewers gone from the gauge',
  );
});

test('/api/v1/stats is plain JSON: no Prometheus syntax in keys', async () => {
  const s = await getJson<Record<string, unknown>>(`${server.api}/api/v1/stats`);
  const keys: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        keys.push(k);
        walk(x);
      }
  };
  walk(s);
  for (const k of keys) assert.match(k, /^[\w.-]+$/, k);
  const counters = s.counters as Record<string, unknown>;
  assert.deepEqual(
    (counters.play_started as { labels: Record<string, string>; value: number }[]).find(
      (c) => c.labels.proto === 'ws-flv',
    ),
    { labels: { proto: 'ws-flv' }, value: 1 },
  );
  assert.equal(typeof counters.publish_started, 'number');
});
