import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { publishTo, startCluster, TIMING, type Cluster } from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { sleep, waitFor } from './helpers/sluice.ts';

// An edge that drains with a viewer still attached stays up (drain.timeoutMs is long here) and
// marked draining: the scheduler sends every new viewer to the other edge, also those of the
// stream the draining edge relays, while the viewer already there keeps receiving until it
// leaves; then the edge exits 0.

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 }),
    startCluster({ origins: 1, edges: 2, scheduler: true, env: { SLUICE_DRAIN_TIMEOUT_MS: '30000' } }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

interface Route {
  edge: { nodeId: string; reason: string };
  url: string;
}

async function route(key: string): Promise<Route> {
  const r = await fetch(`${cluster.scheduler!.url}/api/v1/route/${key}?protocol=flv`);
  assert.equal(r.status, 200);
  return (await r.json()) as Route;
}

test('a draining edge with a viewer gets no new viewers from the scheduler; its viewer plays on until it leaves', async (t) => {
  const [edge1, edge2] = [cluster.edges[0]!, cluster.edges[1]!];
  let key = '';
  for (let i = 0; i < 40 && !key; i++)
    if ((await route(`live/dr${i}`)).edge.nodeId === 'edge-1') key = `live/dr${i}`;
  assert.ok(key, 'a key the scheduler sends to edge-1');
  cluster.track(await publishTo(cluster.origins[0]!, media, key));
  const viewer = httpFlv(`${edge1.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 10, 10_000, 'the viewer playing on edge-1');
  // The scheduler knows edge-1 relays the key (its presence): the relayed key prefers it.
  await waitFor(async () => (await route(key)).edge.reason === 'relaying', 5000, 'edge-1 relaying');

  const exited = new Promise<number | null>((r) => edge1.proc.once('exit', (code) => r(code)));
  const drainedAt = Date.now();
  edge1.proc.kill('SIGTERM');
  await waitFor(async () => (await route(key)).edge.nodeId === 'edge-2', 1500, 'routing away from edge-1');
  t.diagnostic(`SIGTERM -> the scheduler routes the relayed key elsewhere: ${Date.now() - drainedAt} ms`);

  // For several heartbeats (each says draining), every answer names edge-2 only.
  const keys = [key, ...Array.from({ length: 20 }, (_, i) => `live/other${i}`)];
  const framesAtDrain = viewer.videoFrames().length;
  const until = Date.now() + 4 * TIMING.heartbeatMs;
  let rounds = 0;
  while (Date.now() < until) {
    const edges = new Set((await Promise.all(keys.map(route))).map((r) => r.edge.nodeId));
    assert.deepEqual([...edges], ['edge-2'], `round ${rounds}`);
    const play = await fetch(`${cluster.scheduler!.url}/play/${key}.flv`, { redirect: 'manual' });
    assert.equal(play.status, 302);
    assert.equal(play.headers.get('location'), `${edge2.http}/${key}.flv`);
    rounds++;
    await sleep(200);
  }
  assert.ok(rounds >= 3, `${rounds} rounds`);
  const nodes = (await (await fetch(`${cluster.scheduler!.url}/api/v1/nodes`)).json()) as {
    nodes: { nodeId: string; healthy: boolean }[];
  };
  assert.equal(
    nodes.nodes.find((n) => n.nodeId === 'edge-1')?.healthy,
    false,
    'edge-1 not healthy in the view',
  );

  // A player going straight to the draining edge is refused; the one already there plays on.
  const late = await fetch(`${edge1.http}/${key}.flv`, { signal: AbortSignal.timeout(3000) });
  assert.equal(late.status, 503);
  await late.body?.cancel();
  assert.equal(edge1.proc.exitCode, null, 'still draining while its viewer stays');
  assert.ok(
    viewer.videoFrames().length >= framesAtDrain + 25,
    `the old viewer received ${viewer.videoFrames().length - framesAtDrain} frames while edge-1 drained`,
  );
  assert.equal(viewer.closed, false);

  // The viewer that the scheduler sends now plays from edge-2.
  const next = httpFlv(`${edge2.http}/${key}.flv`);
  await waitFor(() => next.videoFrames().length >= 10, 10_000, 'a new viewer on edge-2');
  next.stop();

  const leftAt = Date.now();
  viewer.stop();
  assert.equal(await exited, 0, 'edge-1 exits 0 once its last viewer left');
  t.diagnostic(`last viewer left -> edge-1 exited: ${Date.now() - leftAt} ms`);
  assert.ok(Date.now() - leftAt < 5000);
});
