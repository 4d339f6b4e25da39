import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, makeTestFlv } from './helpers/media.ts';
import {
  publishTo,
  startCluster,
  startScheduler,
  type Cluster,
  type SchedulerProcess,
} from './helpers/cluster.ts';
import { sleep, waitFor } from './helpers/sluice.ts';
import { startReceiver, type ReceivedHook } from './helpers/webhook-receiver.ts';

const KEY = 'live/hooked';
const SECRET = 'cluster-webhook-secret';
let cluster: Cluster;
let rx: Awaited<ReturnType<typeof startReceiver>>;
const schedulers: SchedulerProcess[] = [];
let media: string;

before(async () => {
  rx = await startReceiver();
  const webhooks = {
    enabled: true,
    sender: 'scheduler',
    url: `${rx.url}/hook`,
    secret: SECRET,
    retryBaseMs: 50,
  };
  [media, cluster] = await Promise.all([
    makeTestFlv({ durationS: 20, width: 320, height: 240, fps: 25, gop: 25 }),
    startCluster({ origins: 1, edges: 1, originConfig: { webhooks }, edgeConfig: { webhooks } }),
  ]);
  for (const id of ['sched-a', 'sched-b'])
    schedulers.push(await startScheduler(cluster.redis.url, cluster.nats.url, { nodeId: id, webhooks }));
  for (const s of schedulers)
    await waitFor(
      async () => (await fetch(`${s.url}/readyz`).then((r) => r.status)) === 200,
      10_000,
      `${s.url} ready`,
    );
  await sleep(300); // the queue subscriptions reach nats-server
});

after(async () => {
  await Promise.all(schedulers.map((s) => s.stop('SIGKILL')));
  await cluster?.stop();
  await rx?.close();
});

const SESSION_HOOKS = ['on_pub_start', 'on_pub_stop', 'on_sub_start', 'on_sub_stop'];

test('with sender scheduler, two schedulers deliver each session event exactly once', async () => {
  const origin = cluster.origins[0]!;
  const edge = cluster.edges[0]!;
  const pub = await publishTo(origin, media, KEY);
  cluster.track(pub);
  const viewer = capture(`${edge.http}/${KEY}.flv`, join(mkdtempSync(join(tmpdir(), 'hooks-')), 'v.flv'), {
    seconds: 2,
  });
  cluster.track(viewer);
  await viewer.exited;
  const of = (hook: string): ReceivedHook[] => rx.hooks.filter((h) => h.body.hook === hook);
  await waitFor(() => of('on_relay_pull_start').length > 0, 10_000, 'on_relay_pull_start');
  // The edge's viewer and the origin's relay session: two sub sessions, each starting and stopping.
  await waitFor(
    () => of('on_sub_stop').some((h) => h.body.kind === 'player'),
    10_000,
    "the edge viewer's on_sub_stop",
  );
  await pub.kill();
  await waitFor(() => of('on_pub_stop').length > 0, 10_000, 'on_pub_stop');
  await sleep(1500); // room for duplicates to show up

  const sessionHooks = rx.hooks.filter((h) => SESSION_HOOKS.includes(String(h.body.hook)));
  const seen = new Map<string, number>();
  for (const h of sessionHooks) {
    const k = `${String(h.body.hook)} ${String(h.body.session_id)}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  const dupes = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(dupes, [], 'no session event twice');
  assert.equal(of('on_pub_start').length, 1);
  assert.equal(of('on_pub_stop').length, 1);
  assert.equal(of('on_relay_pull_start').length, 1);
  const subStarts = of('on_sub_start').map((h) => h.body);
  assert.ok(
    subStarts.some((b) => b.kind === 'player' && b.protocol === 'FLV'),
    'the edge viewer',
  );
  assert.ok(
    subStarts.some((b) => b.kind === 'relay'),
    "the origin's relay session",
  );
  assert.equal(
    new Set(rx.hooks.map((h) => h.headers['x-sluice-event-id'])).size,
    rx.hooks.length,
    'ids unique',
  );
  // Nodes still send what only they know.
  assert.ok(of('on_server_start').length >= 2);
  assert.ok(of('on_rtmp_connect').length >= 1);
  // server_id names the node where it happened, not the scheduler.
  assert.equal(of('on_pub_start')[0]!.body.stream_name, 'hooked');
  assert.ok(!String(of('on_pub_start')[0]!.body.server_id).startsWith('sched-'));
  // Signed with the shared secret on every path.
  const { createHmac } = await import('node:crypto');
  for (const h of rx.hooks) {
    const ts = String(h.headers['x-sluice-timestamp']);
    const mac = createHmac('sha256', SECRET).update(`${ts}.${h.raw}`).digest('hex');
    assert.equal(h.headers['x-sluice-signature'], `sha256=${mac}`);
  }
  // Both replicas sent (NATS spreads a queue group's messages); at the least, never both the same one.
  const sent = schedulers.map(
    (s) => s.logs.filter((l) => l.msg === 'sending session and relay webhooks from cluster events').length,
  );
  assert.deepEqual(sent, [1, 1]);
});
