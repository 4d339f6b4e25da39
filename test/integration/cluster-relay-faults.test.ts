import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { Subject, type StreamPublishedEvent } from '../../libs/cluster/types.ts';
import { RtmpClientError } from '../../libs/rtmp/client-connection.ts';
import { assertEventsValid, publishTo, RtmpViewer, startCluster, type Cluster } from './helpers/cluster.ts';
import { httpFlv, type FlvCollector } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { sleep, waitFor } from './helpers/sluice.ts';

// Edge relays against what the bus can carry and what an edge can hold (issue #6): forged and
// replayed stream.published events (any NATS client can publish, and events are replayed after
// a reconnect) must not move a live relay; the relay cap refuses viewers of one stream too many.

const SPEC = { durationS: 4, width: 320, height: 240, fps: 25, gop: 25 };

let cluster: Cluster;
let media: string;
let nc: NatsConnection;

before(async () => {
  [media, cluster] = await Promise.all([makeTestFlv(SPEC), startCluster({ origins: 1, edges: 1 })]);
  nc = await connect({ servers: cluster.nats.url, name: 'forger' });
});

after(async () => {
  await nc?.close();
  await cluster?.stop();
});

/** Longest silence between video frames that arrived after `from`. */
function longestSilence(c: FlvCollector, from: number): number {
  const times = c
    .videoFrames()
    .map((f) => f.tag.atMs)
    .filter((at) => at >= from);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

test('forged and replayed stream.published events do not move a live relay', async (t) => {
  const key = 'live/forged';
  const origin = cluster.origins[0]!;
  const edge = cluster.edges[0]!;
  const pub = await publishTo(origin, media, key);
  cluster.track(pub);
  const owner = await waitFor(() => cluster.registry.lookup(key), 3000, 'the claim');
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 25, 8000, 'the edge viewer playing');
  const real = await cluster.events.waitFor(
    Subject.StreamPublished,
    (e) => e.key === key && e.epoch === owner.epoch,
    3000,
  );
  const mark = cluster.events.mark();
  const since = Date.now();
  const ignoredBefore = await counter(edge.api, 'sluice_relay_events_ignored_total');

  const send = (e: StreamPublishedEvent): void => nc.publish(Subject.StreamPublished, JSON.stringify(e));
  const forged: StreamPublishedEvent = {
    v: 1,
    nodeId: 'origin-9',
    instanceId: 'f0f0f0f0f0f0f0f0',
    ts: Date.now(),
    key,
    epoch: owner.epoch + 1_000_000,
    sessionId: 'rtmp-forged',
  };
  // A forged move to a higher epoch nobody holds; an older epoch from another node (a replay
  // after a reconnect); the owner's own announcement again (a duplicate).
  send(forged);
  send({ ...forged, nodeId: 'origin-8', instanceId: 'e0e0e0e0e0e0e0e0', epoch: owner.epoch - 5 });
  send(real);
  await nc.flush();
  await sleep(2000);

  const ignored = (await counter(edge.api, 'sluice_relay_events_ignored_total')) - ignoredBefore;
  t.diagnostic(`events ignored by the edge: ${ignored}`);
  assert.equal(ignored, 3, 'each of the three was ignored');
  assert.equal(await counter(edge.api, 'sluice_relay_owner_moved_total'), 0, 'the relay never moved');
  assert.deepEqual(
    cluster.events.of(Subject.RelayStopped, mark).filter((e) => e.key === key),
    [],
    'the relay never stopped',
  );
  const silence = longestSilence(viewer, since);
  t.diagnostic(`longest silence at the viewer: ${silence} ms`);
  assert.ok(silence < 500, `the viewer never stalled (${silence} ms)`);
  assert.equal(viewer.closed, false);
  viewer.stop();
  await pub.kill();
});

test('relay cap: an edge relaying its maximum refuses viewers of another stream (503), serves the ones it relays', async () => {
  const capped = await cluster.spawn('edge', 'edge-capped', {
    config: { relay: { maxRelays: 1, idleStopMs: 500 } },
  });
  const origin = cluster.origins[0]!;
  const [pubA, pubB] = await Promise.all([
    publishTo(origin, media, 'live/cap-a'),
    publishTo(origin, media, 'live/cap-b'),
  ]);
  cluster.track(pubA, pubB);
  const a = httpFlv(`${capped.http}/live/cap-a.flv`);
  await waitFor(() => a.videoFrames().length >= 10, 8000, 'the first stream relayed');
  const a2 = httpFlv(`${capped.http}/live/cap-a.flv`);
  await waitFor(() => a2.videoFrames().length >= 10, 5000, 'a second viewer of the relayed stream');

  const res = await fetch(`${capped.http}/live/cap-b.flv`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /maximum of 1 streams/);
  const rtmp = await RtmpViewer.play(`${capped.rtmp}/live/cap-b`).then(
    (v) => (v.close(), null),
    (e: unknown) => e,
  );
  assert.ok(rtmp instanceof RtmpClientError, `RTMP viewer of a third stream: ${String(rtmp)}`);
  assert.equal(await counter(capped.api, 'sluice_relays_refused_cap_total'), 2);

  // Once the first relay is idle and stopped, the slot is free again.
  a.stop();
  a2.stop();
  await waitFor(
    async () => {
      const r = await fetch(`${capped.http}/live/cap-b.flv`);
      await r.body?.cancel();
      return r.status === 200;
    },
    5000,
    'the slot freed',
  );
  const b = httpFlv(`${capped.http}/live/cap-b.flv`);
  await waitFor(() => b.videoFrames().length >= 10, 8000, 'the other stream relayed now');
  b.stop();
  await Promise.all([pubA.kill(), pubB.kill()]);
  await capped.stop();
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
