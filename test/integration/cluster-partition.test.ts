import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../libs/cluster/types.ts';
import { RtmpClientError } from '../../libs/rtmp/client-connection.ts';
import {
  assertEventsValid,
  logLines,
  publishTo,
  publishUntilAccepted,
  RtmpViewer,
  startCluster,
  TIMING,
  type Cluster,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, type Child } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { sleep, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

// An origin cut off from Redis by a partition (a TCP proxy that stops delivering, sockets
// open), and an origin that hangs (SIGSTOP) while an edge pulls from it. Issue #6: one owner
// at a time, edges follow the confirmed higher epoch, the cut-off or resumed origin fences
// itself, and edge viewers are never frozen. Lease 3 s, refresh 1 s (helpers/cluster.ts).

const SPEC = { durationS: 4, width: 320, height: 240, fps: 25, gop: 25 };
/** origin-p keeps serving through a Redis outage this long, then fences itself. */
const GRACE_MS = 6500;
const FENCED = 'stream fenced: stopping the publish and relay pulls';
const TAKEN_OVER = 'stream taken over from a dead owner before its lease ended';

let cluster: Cluster;
let media: string;
let proxy: TcpProxy;
/** origin-p reaches Redis only through `proxy`. */
let originP: SluiceProcess;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({
      origins: 1,
      edges: 1,
      originConfig: { ownership: { outageGraceMs: GRACE_MS } },
      edgeConfig: { relay: { receiveTimeoutMs: 1500 } },
    }),
  ]);
  proxy = await startTcpProxy({ port: cluster.redis.port });
  originP = await cluster.spawn('origin', 'origin-p', {
    env: { SLUICE_REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
  });
});

after(async () => {
  await proxy?.close();
  await cluster?.stop();
});

/** Publishes `key` on origin-p with an edge viewer playing it; returns both. */
async function liveOnP(key: string): Promise<{ pub: Child; viewer: ReturnType<typeof httpFlv> }> {
  const pub = await publishTo(originP, media, key);
  cluster.track(pub);
  await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim of origin-p');
  const viewer = httpFlv(`${cluster.edges[0]!.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 8000, 'the edge viewer playing');
  return { pub, viewer };
}

test('origin-p cut off from Redis past its grace: origin-1 gets the key after the lease, the edge follows, origin-p fences itself before the partition heals', async (t) => {
  const key = 'live/part';
  const origin1 = cluster.origins[0]!;
  const { pub, viewer } = await liveOnP(key);
  const first = (await cluster.registry.lookup(key))!;
  const mark = cluster.events.mark();

  proxy.blackhole();
  const cutAt = Date.now();
  const logsAt = origin1.logs.length;
  const { pub: pub1, attempts } = await publishUntilAccepted(origin1, media, key, {
    retryMs: 300,
    timeoutMs: 10_000,
  });
  cluster.track(pub1);
  const acceptedAt = Date.now();
  t.diagnostic(`origin-1 accepted ${acceptedAt - cutAt} ms after the cut (attempt ${attempts})`);
  // A partitioned owner is alive and still connected to Redis (its socket is open): no early
  // takeover, origin-1 waits for the lease Redis measures.
  assert.ok(acceptedAt - cutAt >= TIMING.leaseMs - TIMING.refreshMs - 500, 'not before the lease ran out');
  assert.ok(
    logLines(origin1, 'owner not proven dead; no takeover', key, logsAt).some(
      (l) => l.why === 'owner still connected to the registry',
    ),
  );
  assert.equal(logLines(origin1, TAKEN_OVER, key, logsAt).length, 0, 'no early takeover');
  const owner = (await cluster.registry.lookup(key))!;
  assert.equal(owner.nodeId, 'origin-1');
  assert.ok(owner.epoch > first.epoch);

  // origin-p's lease is over by its own clock (checked before its grace ends, while it still
  // holds the claim): it no longer serves relay pulls of its epoch...
  const stale = await RtmpViewer.play(`${originP.rtmp}/${key}`, {
    connectArgs: { sluiceRelay: cluster.relaySecret, sluiceEpoch: first.epoch },
  }).then(
    (v) => (v.close(), null),
    (e: unknown) => e,
  );
  assert.ok(stale instanceof RtmpClientError, `a relay pull of the old epoch: ${String(stale)}`);
  assert.match(stale.message, /unconfirmed/);

  // The edge can reach Redis: it confirms the higher epoch and moves; its viewer plays on.
  const relay = await cluster.events.waitFor(
    Subject.RelayStarted,
    (e) => e.key === key && e.fromNodeId === 'origin-1',
    5000,
    mark,
  );
  assert.equal(relay.epoch, owner.epoch);
  const framesAt = viewer.videoFrames().length;
  await waitFor(() => viewer.videoFrames().length >= framesAt + 25, 5000, 'frames from origin-1');
  assert.equal(viewer.closed, false);
  assert.equal(viewer.timestampRegression(), null);

  // Once the grace is over it fences itself, partition or not.
  const fenced = await waitFor(() => logLines(originP, FENCED, key)[0], GRACE_MS + 3000, 'origin-p fenced');
  const fencedAt = Date.parse(String(fenced.time));
  t.diagnostic(`origin-p fenced ${fencedAt - cutAt} ms after the cut (grace ${GRACE_MS} ms)`);
  assert.equal(fenced.reason, 'unconfirmed');
  assert.ok(proxy.partitioned, 'while still cut off');
  assert.ok(fencedAt - cutAt <= GRACE_MS + 1500, `fenced ${fencedAt - cutAt} ms after the cut`);
  await waitFor(
    () => pub.proc.exitCode !== null || pub.proc.signalCode !== null,
    5000,
    'its publisher kicked',
  );
  assert.equal(await counter(originP.api, 'sluice_ownership_fenced_total', { reason: 'unconfirmed' }), 1);

  // Healed: origin-p does not come back as owner.
  const healedAt = Date.now();
  proxy.heal();
  await sleep(3 * TIMING.refreshMs);
  assert.equal((await cluster.registry.lookup(key))?.nodeId, 'origin-1');
  assert.equal(
    cluster.events
      .of(Subject.StreamPublished, mark)
      .filter((e) => e.key === key && e.nodeId === 'origin-p' && e.ts >= healedAt).length,
    0,
  );
  viewer.stop();
  await pub1.kill();
});

test('origin-p cut off shorter than its grace: once healed it finds the higher epoch and fences at once', async (t) => {
  const key = 'live/part-short';
  const origin1 = cluster.origins[0]!;
  const { pub, viewer } = await liveOnP(key);
  proxy.blackhole();
  const cutAt = Date.now();
  const { pub: pub1 } = await publishUntilAccepted(origin1, media, key, { retryMs: 300, timeoutMs: 10_000 });
  cluster.track(pub1);
  await waitFor(
    () => cluster.registry.lookup(key).then((o) => o?.nodeId === 'origin-1'),
    3000,
    'origin-1 owns it',
  );
  assert.equal(logLines(originP, FENCED, key).length, 0, 'not fenced while within its grace');
  assert.ok(Date.now() - cutAt < GRACE_MS - 500, 'the heal comes before the grace ends');
  proxy.heal();
  const healedAt = Date.now();
  const fenced = await waitFor(
    () => logLines(originP, FENCED, key)[0],
    2 * TIMING.refreshMs + 2000,
    'fenced',
  );
  t.diagnostic(`fenced ${Date.parse(String(fenced.time)) - healedAt} ms after the heal`);
  assert.equal(fenced.reason, 'claim_lost');
  await waitFor(
    () => pub.proc.exitCode !== null || pub.proc.signalCode !== null,
    5000,
    'its publisher kicked',
  );
  assert.equal((await cluster.registry.lookup(key))?.nodeId, 'origin-1');
  viewer.stop();
  await pub1.kill();
});

test('the owner hangs (SIGSTOP): the edge ends the silent pull, a hung owner is not taken over early, viewers resume from the new owner; resumed, the old owner fences itself', async (t) => {
  const key = 'live/hang';
  const origin1 = cluster.origins[0]!;
  const edge = cluster.edges[0]!;
  const pub = await publishTo(origin1, media, key);
  cluster.track(pub);
  const first = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 8000, 'the edge viewer playing');
  const mark = cluster.events.mark();
  const timeoutsBefore = await counter(edge.api, 'sluice_relay_receive_timeouts_total');

  origin1.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  try {
    // The encoder moves to origin-p at once; origin-p must wait for the lease: the owner is hung,
    // not dead. Meanwhile the edge ends the silent pull instead of waiting on it forever.
    const logsAt = originP.logs.length;
    const moved = publishUntilAccepted(originP, media, key, { retryMs: 300, timeoutMs: 10_000 });
    moved.catch(() => undefined); // awaited below; a failure must not be unhandled meanwhile
    const stopped = await cluster.events.waitFor(
      Subject.RelayStopped,
      (e) => e.key === key && e.fromNodeId === 'origin-1',
      4000,
      mark,
    );
    t.diagnostic(`relay ended ${stopped.ts - stoppedAt} ms after the owner hung: ${stopped.reason}`);
    assert.match(stopped.reason, /no media for \d+ ms/);
    assert.ok(stopped.ts - stoppedAt < 1500 + 1000, 'within the receive timeout (1.5 s) and a check');
    assert.ok((await counter(edge.api, 'sluice_relay_receive_timeouts_total')) > timeoutsBefore);

    const { pub: pub2, attempts } = await moved;
    cluster.track(pub2);
    const acceptedAt = Date.now();
    t.diagnostic(`origin-p accepted ${acceptedAt - stoppedAt} ms after the hang, attempt ${attempts}`);
    assert.ok(attempts > 1, 'refused while the hung owner held the lease');
    assert.ok(
      acceptedAt - stoppedAt >= TIMING.leaseMs - TIMING.refreshMs - 500,
      'not before the lease ran out',
    );
    assert.ok(
      logLines(originP, 'owner not proven dead; no takeover', key, logsAt).some(
        (l) => l.why === 'owner still connected to the registry',
      ),
      'the takeover check saw the hung owner still connected',
    );
    assert.equal(logLines(originP, TAKEN_OVER, key, logsAt).length, 0, 'no early takeover');
    const framesAt = viewer.videoFrames().length;
    await waitFor(() => viewer.videoFrames().length >= framesAt + 25, 6000, 'frames from origin-p');
    assert.equal(viewer.closed, false, 'the viewer kept its connection');
    assert.equal(viewer.timestampRegression(), null);
    const owner = (await cluster.registry.lookup(key))!;
    assert.ok(owner.nodeId === 'origin-p' && owner.epoch > first.epoch);
  } finally {
    origin1.proc.kill('SIGCONT');
  }
  const resumedAt = Date.now();
  const fenced = await waitFor(
    () => logLines(origin1, FENCED, key)[0],
    2 * TIMING.refreshMs + 2000,
    'fenced',
  );
  t.diagnostic(
    `origin-1 fenced ${Date.parse(String(fenced.time)) - resumedAt} ms after SIGCONT (${String(fenced.reason)})`,
  );
  await waitFor(
    () => pub.proc.exitCode !== null || pub.proc.signalCode !== null,
    5000,
    'its publisher kicked',
  );
  await sleep(2 * TIMING.refreshMs);
  assert.equal(
    (await cluster.registry.lookup(key))?.nodeId,
    'origin-p',
    'the resumed owner did not come back',
  );
  assert.equal(
    cluster.events.of(Subject.StreamPublished, mark).filter((e) => e.key === key && e.nodeId === 'origin-1')
      .length,
    0,
  );
  assert.equal(
    cluster.events
      .of(Subject.RelayStarted, mark)
      .filter((e) => e.key === key && e.fromNodeId === 'origin-1' && e.ts >= resumedAt).length,
    0,
    'the edge never went back to it',
  );
  viewer.stop();
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
