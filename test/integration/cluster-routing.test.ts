import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nodeStream,
  publishTo,
  startCluster,
  TIMING,
  type Cluster,
  assertEventsValid,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { waitFor } from './helpers/sluice.ts';

// The scheduler in front of a live cluster: ingest and a viewer that arrives before the
// stream, stable spread of viewers over edges, and edges leaving (drained or killed).

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({ origins: 1, edges: 3, scheduler: true }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

async function get<T>(path: string): Promise<{ status: number; body: T; location: string | null }> {
  const res = await fetch(`${cluster.scheduler!.url}${path}`, { redirect: 'manual' });
  return { status: res.status, body: (await res.json()) as T, location: res.headers.get('location') };
}

interface Route {
  edge: { nodeId: string; reason: string };
  url: string;
}
interface Ingest {
  origin: { nodeId: string; owner: boolean; epoch?: number };
  url: string;
}

const routeOf = async (key: string): Promise<string> => {
  const r = await get<Route>(`/api/v1/route/${key}?protocol=flv`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.edge.nodeId;
};

/** A key (live/<prefix>N) that the scheduler sends to `edgeId` now. */
async function keyRoutedTo(edgeId: string, prefix: string): Promise<string> {
  for (let i = 0; i < 60; i++)
    if ((await routeOf(`live/${prefix}${i}`)) === edgeId) return `live/${prefix}${i}`;
  throw new Error(`no key of 60 routes to ${edgeId}`);
}

test('a viewer waiting on an edge gets the stream once it is published where the scheduler said', async (t) => {
  const key = 'live/early';
  const origin = cluster.origins[0]!;
  const before = await get<Ingest>(`/api/v1/ingest/${key}`);
  assert.equal(before.status, 200);
  assert.deepEqual(before.body.origin, { nodeId: 'origin-1', owner: false });
  assert.equal(before.body.url, `${origin.rtmp}/${key}`);

  const edge = cluster.edges[0]!;
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(async () => (await nodeStream(edge, key))?.subscribers === 1, 3000, 'the viewer waiting');
  const pub = await publishTo(origin, media, key);
  cluster.track(pub);
  const publishedAt = Date.now();
  const first = await waitFor(() => viewer.videoFrames()[0], 5000, 'the first frame at the waiting viewer');
  t.diagnostic(
    `publish accepted -> first frame at a viewer already waiting on an edge: ${first.tag.atMs - publishedAt} ms`,
  );
  assert.equal(first.key, true);
  await waitFor(() => viewer.videoFrames().length >= 25, 5000, 'a second of frames');
  assert.equal(viewer.timestampRegression(), null);

  const owner = await cluster.registry.lookup(key);
  const after = await get<Ingest>(`/api/v1/ingest/${key}`);
  assert.deepEqual(after.body.origin, { nodeId: 'origin-1', owner: true, epoch: owner!.epoch });
  viewer.stop();
  await pub.kill();
});

test('routing is stable per key and spreads keys over the edges', async () => {
  const keys = Array.from({ length: 24 }, (_, i) => `live/spread${i}`);
  const first = await Promise.all(keys.map(routeOf));
  const again = await Promise.all(keys.map(routeOf));
  assert.deepEqual(again, first, 'the same edge for the same key');
  const counts = new Map<string, number>();
  for (const e of first) counts.set(e, (counts.get(e) ?? 0) + 1);
  assert.deepEqual(
    [...counts.keys()].sort(),
    ['edge-1', 'edge-2', 'edge-3'],
    `spread ${JSON.stringify([...counts])}`,
  );
});

test('a drained edge gets no new viewers at once; a killed one drops out within two heartbeats; its viewers come back through the scheduler', async (t) => {
  const [edge1, edge2, edge3] = [cluster.edges[0]!, cluster.edges[1]!, cluster.edges[2]!];
  const to3 = await keyRoutedTo('edge-3', 'drain');
  const to2 = await keyRoutedTo('edge-2', 'kill');

  const drainedAt = Date.now();
  const exit = edge3.stop('SIGTERM');
  await waitFor(async () => (await routeOf(to3)) !== 'edge-3', 1500, 'routing away from the draining edge');
  t.diagnostic(`SIGTERM -> scheduler stops routing to the edge: ${Date.now() - drainedAt} ms`);
  assert.equal(await exit, 0, 'the drained edge exits 0');

  const pub = await publishTo(cluster.origins[0]!, media, to2);
  cluster.track(pub);
  const viewer = httpFlv(`${edge2.http}/${to2}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 10, 8000, 'a viewer on edge-2');
  const killedAt = Date.now();
  edge2.proc.kill('SIGKILL');
  await waitFor(
    async () => (await routeOf(to2)) !== 'edge-2',
    2 * TIMING.heartbeatMs + 1500,
    'routing away from the dead edge',
  );
  const rerouteMs = Date.now() - killedAt;
  t.diagnostic(`kill -9 -> scheduler stops routing to the edge: ${rerouteMs} ms`);
  await viewer.whenClosed();

  // The viewer comes back the way a player would: through the scheduler's redirect.
  const redirect = await get<Route>(`/play/${to2}.flv`);
  assert.equal(redirect.status, 302);
  assert.equal(redirect.location, `${edge1.http}/${to2}.flv`);
  const back = httpFlv(redirect.location!);
  await waitFor(() => back.videoFrames().length >= 10, 8000, 'the viewer back on edge-1');
  const nodes = await get<{ nodes: { nodeId: string; healthy: boolean }[] }>('/api/v1/nodes');
  assert.deepEqual(
    nodes.body.nodes.filter((n) => n.healthy).map((n) => n.nodeId),
    ['edge-1', 'origin-1'],
  );
  back.stop();
  await pub.kill();
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
});
