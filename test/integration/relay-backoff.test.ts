import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { MemoryBus } from '../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../libs/cluster/memory-registry.ts';
import { silentLogger } from '../../libs/log/logger.ts';
import { Counters } from '../../libs/metrics/counters.ts';
import { StreamHub } from '../../libs/stream/index.ts';
import { Relay, type RelayOptions } from '../../services/edge/relay.ts';

// An edge relay's retry pacing against a real socket (issue #6): an origin address that
// accepts and drops every connection, so each attempt fails at once and its time is exactly
// when it was made. Retries wait (the first one too), back off exponentially with jitter, so
// two edges do not retry in lockstep; a relay for a key nobody owns gives up after the wait.

const OPTS: RelayOptions = {
  reconnectMinMs: 100,
  reconnectMaxMs: 800,
  pullTimeoutMs: 1000,
  ownerPollMs: 100,
  receiveTimeoutMs: 1000,
  noOwnerGiveUpMs: 600,
};
const KEY = 'live/backoff';
const servers: Server[] = [];

after(() => {
  for (const s of servers) s.close();
});

/** A TCP server that drops every connection at once; resolves with its port and the accept times. */
async function dropper(): Promise<{ port: number; accepts: number[] }> {
  const accepts: number[] = [];
  const server = createServer((s) => {
    accepts.push(performance.now());
    s.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, accepts };
}

function relayOn(registry: MemoryRegistry, n: number): { relay: Relay; counters: Counters } {
  const counters = new Counters();
  const log = silentLogger();
  const hub = new StreamHub(
    {
      gopCache: true,
      gopCacheMaxBytes: 1 << 20,
      waitPublisherMs: 5000,
      maxBufferedBytes: 1 << 20,
      stallTimeoutMs: 5000,
      writeCoalesceMs: 0,
    },
    { log, counters },
  );
  const relay = new Relay(KEY, {
    holder: { nodeId: `edge-${n}`, instanceId: `edge-${n}-instance` },
    hub,
    registry,
    bus: new MemoryBus(),
    secret: 'test-relay-secret',
    log,
    counters,
    opts: OPTS,
  });
  return { relay, counters };
}

test('relay retries wait, back off with jitter, and two edges do not retry in lockstep', async (t) => {
  const origin = await dropper();
  const registry = new MemoryRegistry();
  const claim = await registry.claim(KEY, { nodeId: 'origin-1', instanceId: 'origin-1-instance' }, 60_000, {
    relayAddr: `127.0.0.1:${origin.port}`,
  });
  assert.ok(claim.ok);
  const edges = [relayOn(registry, 1), relayOn(registry, 2)];
  for (const e of edges) e.relay.start();
  await new Promise((r) => setTimeout(r, 3500));
  for (const e of edges) e.relay.stop('test over');

  // Both edges dial the same origin: split the accepts by arrival is impossible, so compare
  // the merged schedule against one edge's expectation doubled.
  const gaps = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);
  const all = origin.accepts;
  t.diagnostic(
    `attempts: ${all.length}; gaps ${gaps(all)
      .map((g) => g.toFixed(0))
      .join(' ')}`,
  );
  assert.ok(
    edges.every((e) => e.counters.get('relay_reconnects') >= 4),
    'both edges kept retrying',
  );
  // Without waiting, 3.5 s of instantly failing attempts would be thousands.
  assert.ok(all.length <= 2 * 12, `${all.length} attempts in 3.5 s: retries wait`);
  // Backoff: 100, 200, 400, 800, 800… (each with equal jitter in [b/2, b]) -> about 7 per edge.
  assert.ok(all.length >= 2 * 5, `${all.length} attempts: the backoff is capped at 800 ms`);
  // Jitter: two edges started together do not dial at the same instants.
  const lockstep = gaps(all).filter((g) => g < 3).length;
  assert.ok(lockstep < all.length / 2 - 1, `${lockstep} near-simultaneous attempts of ${all.length}`);
});

test('one relay: every retry waits between half and all of its backoff, doubling up to the cap', async (t) => {
  const origin = await dropper();
  const registry = new MemoryRegistry();
  await registry.claim(KEY, { nodeId: 'origin-1', instanceId: 'origin-1-instance' }, 60_000, {
    relayAddr: `127.0.0.1:${origin.port}`,
  });
  const { relay } = relayOn(registry, 3);
  relay.start();
  await new Promise((r) => setTimeout(r, 4000));
  relay.stop('test over');
  const gaps = origin.accepts.slice(1).map((x, i) => x - origin.accepts[i]!);
  t.diagnostic(`gaps ${gaps.map((g) => g.toFixed(0)).join(' ')}`);
  assert.ok(gaps.length >= 5);
  gaps.forEach((g, i) => {
    const backoff = Math.min(OPTS.reconnectMinMs * 2 ** i, OPTS.reconnectMaxMs);
    // A lookup and a refused handshake fit in the slack; the wait itself is [b/2, b].
    assert.ok(
      g >= backoff / 2 - 5 && g <= backoff + 60,
      `retry ${i + 1}: ${g.toFixed(0)} ms, backoff ${backoff}`,
    );
  });
  assert.ok(new Set(gaps.slice(3).map((g) => Math.round(g / 10))).size > 1, 'capped retries still jitter');
});

test("a relay for a key nobody owns gives up after the viewers' wait", async () => {
  const { relay, counters } = relayOn(new MemoryRegistry(), 4);
  const t0 = performance.now();
  const gaveUp = new Promise<number>((r) => (relay.onGiveUp = () => r(performance.now() - t0)));
  relay.start();
  const after = await Promise.race([gaveUp, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
  assert.ok(after >= OPTS.noOwnerGiveUpMs && after < OPTS.noOwnerGiveUpMs + 400, `gave up after ${after} ms`);
  assert.equal(counters.get('relays_given_up'), 1);
  relay.stop('test over');
});
