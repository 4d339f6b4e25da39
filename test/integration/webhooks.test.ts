import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { capture, makeTestFlv, publish, type Child } from './helpers/media.ts';
import { getJson, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { startReceiver, type ReceivedHook } from './helpers/webhook-receiver.ts';

const run = promisify(execFile);
const SECRET = 'webhook-test-secret';
const SPEC = { durationS: 20, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const dir = mkdtempSync(join(tmpdir(), 'sluice-webhooks-'));
const children: Child[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
let media: string;

before(async () => {
  media = await makeTestFlv(SPEC);
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const c of cleanups.reverse()) await c();
});

const SESSION_FIELDS = [
  'server_id',
  'session_id',
  'protocol',
  'base_type',
  'remote_addr',
  'url',
  'app_name',
  'stream_name',
  'url_param',
  'has_in_session',
  'has_out_session',
  'read_bytes_sum',
  'wrote_bytes_sum',
];

/** The signature checked by hand, as a receiver would: HMAC-SHA256 over "<ts>.<raw body>". */
function assertSigned(h: ReceivedHook): void {
  const ts = String(h.headers['x-sluice-timestamp']);
  assert.match(ts, /^\d+$/);
  assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 60);
  const mac = createHmac('sha256', SECRET).update(`${ts}.${h.raw}`).digest('hex');
  assert.equal(h.headers['x-sluice-signature'], `sha256=${mac}`, `${h.body.hook} signature`);
  assert.match(String(h.headers['x-sluice-event-id']), /^[0-9a-f-]{36}$/);
  assert.equal(h.headers['x-sluice-event'], h.body.hook);
}

const of = (hooks: ReceivedHook[], hook: string): ReceivedHook[] => hooks.filter((h) => h.body.hook === hook);

test('every lal event arrives signed with lal field names; a 500 is retried under the same id', async () => {
  const rx = await startReceiver((path, n) => (path === '/flaky' && n <= 2 ? 500 : 200));
  cleanups.push(() => rx.close());
  const server: SluiceProcess = await startSluice({
    stream: { waitPublisherMs: 3000 },
    hls: { targetMs: 1000 },
    webhooks: {
      enabled: true,
      url: `${rx.url}/all`,
      urls: { on_pub_start: `${rx.url}/flaky` },
      secret: SECRET,
      retryBaseMs: 50,
      retryMaxMs: 200,
      updateIntervalS: 1,
    },
  });
  cleanups.push(() => server.stop());
  const hooks = rx.hooks;
  await waitFor(() => of(hooks, 'on_server_start').length === 1, 5000, 'on_server_start');

  const pub = publish(media, `${server.rtmp}/live/hook?token=sekrit`, { loop: true });
  children.push(pub);
  await waitFor(() => of(hooks, 'on_pub_start').length >= 3, 10_000, 'on_pub_start delivered');
  const viewer = capture(`${server.http}/live/hook.flv`, join(dir, 'v.flv'), { seconds: 2 });
  await viewer.exited;
  await waitFor(() => of(hooks, 'on_sub_stop').length >= 1, 10_000, 'on_sub_stop');
  await waitFor(
    () => of(hooks, 'on_hls_make_ts').some((h) => h.body.event === 'close'),
    10_000,
    'on_hls_make_ts close',
  );
  await waitFor(
    () => of(hooks, 'on_update').some((h) => (h.body.groups as unknown[]).length > 0),
    5000,
    'on_update with the stream',
  );
  await pub.kill();
  await waitFor(() => of(hooks, 'on_pub_stop').length === 1, 10_000, 'on_pub_stop');

  for (const h of hooks) assertSigned(h);

  // 500, 500, 200: three attempts of one event, one id, at the per-event URL.
  const starts = of(hooks, 'on_pub_start');
  assert.equal(starts.length, 3);
  assert.ok(starts.every((h) => h.path === '/flaky'));
  assert.equal(new Set(starts.map((h) => h.headers['x-sluice-event-id'])).size, 1);
  assert.deepEqual(
    starts.map((h) => h.headers['x-sluice-attempt']),
    ['1', '2', '3'],
  );
  assert.ok(hooks.filter((h) => h.body.hook !== 'on_pub_start').every((h) => h.path === '/all'));

  const start = starts[2]!.body;
  for (const f of SESSION_FIELDS) assert.ok(f in start, `on_pub_start has ${f}`);
  assert.equal(start.server_id, 'test-node');
  assert.equal(start.node_id, 'test-node');
  assert.equal(start.app_name, 'live');
  assert.equal(start.app, 'live');
  assert.equal(start.stream_name, 'hook');
  assert.equal(start.protocol, 'RTMP');
  assert.equal(start.base_type, 'PUB');
  assert.equal(typeof start.epoch, 'number', 'standalone knows its epoch');

  const sub = of(hooks, 'on_sub_start')[0]!.body;
  for (const f of SESSION_FIELDS) assert.ok(f in sub, `on_sub_start has ${f}`);
  assert.equal(sub.protocol, 'FLV');
  assert.equal(sub.base_type, 'SUB');
  assert.equal(sub.has_in_session, true);
  const subStop = of(hooks, 'on_sub_stop')[0]!.body;
  assert.equal(subStop.session_id, sub.session_id);
  assert.ok((subStop.wrote_bytes_sum as number) > 10_000);

  const conn = of(hooks, 'on_rtmp_connect')[0]!.body;
  assert.equal(conn.app, 'live');
  assert.equal(typeof conn.flashVer, 'string');
  assert.equal(typeof conn.tcUrl, 'string');
  assert.ok(!JSON.stringify(hooks.map((h) => h.raw)).includes('sekrit'), 'no query value is sent');

  const ts = of(hooks, 'on_hls_make_ts').map((h) => h.body);
  const open = ts.find((b) => b.event === 'open')!;
  const close = ts.find((b) => b.event === 'close' && b.id === open.id)!;
  assert.ok(close, 'the opened segment closes');
  for (const f of [
    'event',
    'stream_name',
    'cwd',
    'ts_file',
    'live_m3u8_file',
    'record_m3u8_file',
    'id',
    'duration',
  ])
    assert.ok(f in close, `on_hls_make_ts has ${f}`);
  assert.equal(close.live_m3u8_file, '/live/hook.m3u8');
  assert.ok((close.duration as number) > 0.5 && (close.duration as number) < 3, `duration ${close.duration}`);

  const updates = of(hooks, 'on_update');
  assert.ok(updates.length >= 2, 'periodic');
  const group = (
    updates.find((h) => (h.body.groups as unknown[]).length > 0)!.body.groups as Record<string, unknown>[]
  )[0]!;
  assert.equal(group.stream_name, 'hook');
  assert.equal(group.app_name, 'live');
  assert.equal(group.video_codec, 'H264');
  assert.equal((group.pub as Record<string, unknown>).protocol, 'RTMP');

  const stop = of(hooks, 'on_pub_stop')[0]!.body;
  assert.equal(stop.session_id, start.session_id);
  const sent = await getJson<{ counters: Record<string, unknown> }>(`${server.api}/api/v1/stats`);
  assert.ok(JSON.stringify(sent.counters.webhook_retries).includes('on_pub_start'));
});

test('a receiver that hangs fills the queue and drops are counted, while media keeps flowing', async () => {
  const rx = await startReceiver(() => 'hang');
  cleanups.push(() => rx.close());
  const server = await startSluice({
    stream: { waitPublisherMs: 3000 },
    webhooks: {
      enabled: true,
      url: `${rx.url}/hang`,
      secret: SECRET,
      timeoutMs: 20_000,
      queueSize: 4,
      concurrency: 1,
      updateIntervalS: 1,
    },
  });
  cleanups.push(() => server.stop());
  const pub = publish(media, `${server.rtmp}/live/slow`, { loop: true });
  children.push(pub);
  const dropped = async (): Promise<number> => {
    const s = await getJson<{ counters: Record<string, unknown> }>(`${server.api}/api/v1/stats`);
    const series = (s.counters.webhook_dropped ?? []) as { labels: Record<string, string>; value: number }[];
    return series.filter((x) => x.labels.reason === 'queue_full').reduce((a, x) => a + x.value, 0);
  };
  let before = 0;
  await waitFor(async () => (before = await dropped()) > 0, 15_000, 'drops counted');
  // A player decodes the stream all the same (each frame decoded: framecrc).
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-rw_timeout',
      '15000000',
      '-i',
      `${server.http}/live/slow.flv`,
      '-t',
      '2',
      '-map',
      '0:v',
      '-f',
      'framecrc',
      '-',
    ],
    { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const frames = stdout.split('\n').filter((l) => l && !l.startsWith('#')).length;
  assert.ok(frames >= 40, `decoded ${frames} frames`);
  assert.ok((await dropped()) > before, 'drops keep rising while the receiver hangs');
  assert.equal(rx.hooks.length, 1, 'one request in flight at once');
});

test('SIGTERM: the stop events of the sessions it ends are delivered before the process exits', async () => {
  const rx = await startReceiver(() => 200);
  cleanups.push(() => rx.close());
  const server = await startSluice({
    drain: { timeoutMs: 500 },
    webhooks: { enabled: true, url: `${rx.url}/all`, secret: SECRET },
  });
  const pub = publish(media, `${server.rtmp}/live/term`, { loop: true });
  children.push(pub);
  await waitFor(() => of(rx.hooks, 'on_pub_start').length === 1, 10_000, 'on_pub_start');
  const code = await server.stop('SIGTERM');
  assert.equal(code, 0);
  const stops = of(rx.hooks, 'on_pub_stop');
  assert.equal(stops.length, 1, `hooks received: ${rx.hooks.map((h) => String(h.body.hook)).join(', ')}`);
  assert.equal(stops[0]!.body.stream_name, 'term');
  assertSigned(stops[0]!);
});
