import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { Subject } from '../../libs/cluster/types.ts';
import { nodeStream, publishTo, startCluster, type Cluster, assertEventsValid } from './helpers/cluster.ts';
import { makeTestFlv } from './helpers/media.ts';
import { waitFor } from './helpers/sluice.ts';

// Control requests over NATS, answered by real nodes: stats, kick, relay.start/stop, and a
// refusal for an op the role does not have.

let cluster: Cluster;
let bus: NatsBus;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv({ durationS: 6, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 }),
    startCluster({ origins: 1, edges: 1 }),
  ]);
  bus = await NatsBus.connect({ url: cluster.nats.url, name: 'control-test' });
});

after(async () => {
  await bus?.close();
  await cluster?.stop();
});

test('stats, relay.start and relay.stop on an edge; unsupported ops are refused', async () => {
  const key = 'live/ctl';
  const pub = await publishTo(cluster.origins[0]!, media, key);
  cluster.track(pub);

  const stats = await bus.requestControl('edge-1', { op: 'stats' }, 3000);
  assert.equal(stats.ok, true);
  assert.equal((stats.data as { nodeId: string }).nodeId, 'edge-1');

  // A relay started by control, with no viewer: the origin serves exactly one relay pull.
  const since = cluster.events.mark();
  assert.deepEqual(await bus.requestControl('edge-1', { op: 'relay.start', key }, 3000), { ok: true });
  await cluster.events.waitFor(
    Subject.RelayStarted,
    (e) => e.key === key && e.nodeId === 'edge-1',
    8000,
    since,
  );
  await waitFor(
    async () => (await nodeStream(cluster.origins[0]!, key))?.subscribers === 1,
    5000,
    'one relay pull on the origin',
  );

  assert.deepEqual(await bus.requestControl('edge-1', { op: 'relay.stop', key }, 3000), { ok: true });
  await cluster.events.waitFor(
    Subject.RelayStopped,
    (e) => e.key === key && e.reason === 'control request',
    5000,
    since,
  );
  await waitFor(
    async () => ((await nodeStream(cluster.origins[0]!, key))?.subscribers ?? 0) === 0,
    5000,
    'relay pull gone',
  );
  const again = await bus.requestControl('edge-1', { op: 'relay.stop', key }, 3000);
  assert.equal(again.ok, false, 'stopping a relay that is not there is an error');

  const onOrigin = await bus.requestControl('origin-1', { op: 'relay.start', key }, 3000);
  assert.equal(onOrigin.ok, false);
  assert.match(onOrigin.error ?? '', /relay.start is not supported by a origin/);
});

test('kick ends a publisher by session id; an unknown session is an error', async () => {
  const key = 'live/kick';
  const origin = cluster.origins[0]!;
  const pub = await publishTo(origin, media, key);
  cluster.track(pub);
  const s = await waitFor(() => nodeStream(origin, key), 5000, 'the stream on the origin');
  const sessionId = s.publisher!.id;
  const since = cluster.events.mark();
  assert.deepEqual(await bus.requestControl('origin-1', { op: 'kick', sessionId }, 3000), { ok: true });
  const stopped = await cluster.events.waitFor(
    Subject.SessionStopped,
    (e) => e.sessionId === sessionId,
    5000,
    since,
  );
  assert.equal(stopped.reason, 'kicked by control request');
  await cluster.events.waitFor(Subject.StreamUnpublished, (e) => e.key === key, 5000, since);
  assert.notEqual(
    await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('running'), 5000))]),
    'running',
  );

  const unknown = await bus.requestControl('origin-1', { op: 'kick', sessionId: 'rtmp-00000000' }, 3000);
  assert.equal(unknown.ok, false);
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
