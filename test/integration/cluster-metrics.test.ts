import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { publishTo, startCluster, TIMING, type Cluster } from './helpers/cluster.ts';
import { parseExposition, promtoolCheck, valueOf, type Family } from './helpers/exposition.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { sleep, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Registry and bus operation latency and errors, and relay metrics, scraped from a real origin
// and edge (real redis-server and nats-server): they move with what the nodes do, and the
// registry errors follow a Redis outage.

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv({ durationS: 4, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 }),
    startCluster({ origins: 1, edges: 1 }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

async function scrape(node: SluiceProcess): Promise<Map<string, Family>> {
  const text = await (await fetch(`${node.api}/metrics`)).text();
  const checked = promtoolCheck(text);
  if (checked) assert.ok(checked.ok, checked.output);
  return parseExposition(text);
}

const opCount = (f: Map<string, Family>, family: string, op: string): number =>
  valueOf(f, `sluice_${family}_op_duration_seconds_count`, { op });

test('registry and bus op histograms, relay start latency, relays active/started/failed, registry errors in an outage', async (t) => {
  const [origin, edge] = [cluster.origins[0]!, cluster.edges[0]!];
  const key = 'live/metrics';
  // Idle nodes already beat: node records and presence are registry ops, heartbeats bus publishes.
  const beating = (n: SluiceProcess): Promise<Map<string, Family>> =>
    waitFor(
      async () => {
        const f = await scrape(n);
        return opCount(f, 'registry', 'registerNode') >= 1 && opCount(f, 'bus', 'publish') >= 1 ? f : null;
      },
      5000,
      'registry and bus ops of an idle node',
    );
  const o0 = await beating(origin);
  const e0 = await beating(edge);
  for (const f of [o0, e0]) {
    assert.equal(f.get('sluice_registry_op_duration_seconds')?.type, 'histogram');
    assert.ok(f.get('sluice_registry_op_duration_seconds')?.help);
  }
  assert.equal(valueOf(e0, 'sluice_relays_active'), 0);
  assert.equal(valueOf(e0, 'sluice_relay_start_duration_seconds_count'), 0);

  cluster.track(await publishTo(origin, media, key));
  const asked = performance.now();
  const viewer = httpFlv(`${edge.http}/${key}.flv`);
  await waitFor(() => viewer.videoFrames().length > 0, 10_000, 'the viewer playing on the edge');
  const firstFrameMs = performance.now() - asked;
  await sleep(3 * TIMING.heartbeatMs);

  const o1 = await scrape(origin);
  const e1 = await scrape(edge);
  assert.equal(opCount(o1, 'registry', 'claim'), 1, 'one claim for one publish');
  assert.ok(opCount(o1, 'registry', 'refresh') >= 1, 'lease refreshed');
  assert.ok(opCount(o1, 'registry', 'registerNode') > opCount(o0, 'registry', 'registerNode'));
  assert.ok(opCount(o1, 'bus', 'publish') > opCount(o0, 'bus', 'publish'));
  assert.ok(opCount(e1, 'registry', 'lookup') >= 1, 'the relay looked the owner up');
  assert.ok(opCount(e1, 'registry', 'registerNode') > opCount(e0, 'registry', 'registerNode'));
  assert.ok(opCount(e1, 'bus', 'publish') > opCount(e0, 'bus', 'publish'));
  // Loopback Redis answers in well under a second: every claim landed below the 1 s bucket.
  assert.equal(
    valueOf(o1, 'sluice_registry_op_duration_seconds_bucket', { op: 'claim', le: '1' }),
    opCount(o1, 'registry', 'claim'),
  );
  assert.equal(valueOf(o1, 'sluice_registry_op_errors_total'), 0, 'no registry errors yet');

  assert.equal(valueOf(e1, 'sluice_relays_active'), 1);
  assert.equal(valueOf(e1, 'sluice_relays_live'), 1);
  assert.equal(valueOf(e1, 'sluice_relays_started_total'), 1);
  assert.equal(valueOf(e1, 'sluice_relay_start_duration_seconds_count'), 1);
  const startS = valueOf(e1, 'sluice_relay_start_duration_seconds_sum');
  t.diagnostic(
    `relay start -> first media ${(startS * 1000).toFixed(0)} ms; viewer request -> first frame ${firstFrameMs.toFixed(0)} ms`,
  );
  assert.ok(startS > 0 && startS * 1000 <= firstFrameMs + 50, `relay start ${startS} s`);

  // The origin dies: the relay's next pulls go to its stale claim's address and fail.
  await origin.stop('SIGKILL');
  const e2 = await waitFor(
    async () => {
      const f = await scrape(edge);
      return valueOf(f, 'sluice_relays_failed_total') >= 1 ? f : null;
    },
    10_000,
    'a failed relay attempt counted',
  );
  assert.equal(valueOf(e2, 'sluice_relays_live'), 0);
  assert.equal(valueOf(e2, 'sluice_relays_active'), 1, 'the relay still tries while its viewer waits');

  // Redis goes away: the edge's heartbeat writes fail and are counted by op.
  await cluster.redis.stop();
  const e3 = await waitFor(
    async () => {
      const f = await scrape(edge);
      return valueOf(f, 'sluice_registry_op_errors_total', { op: 'registerNode' }) >= 1 ? f : null;
    },
    5000,
    'registry errors on the edge',
  );
  assert.ok(valueOf(e3, 'sluice_registry_op_errors_total', { op: 'lookup' }) >= 1, 'failed lookups');
  assert.ok(e3.get('sluice_registry_op_errors_total')?.help);
  viewer.stop();
});
