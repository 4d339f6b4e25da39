import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import { Subject } from '../../../libs/cluster/types.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { defineOutputFormat, StreamHub, type Sink } from '../../../libs/stream/index.ts';
import { RelayManager } from '../../../services/edge/relay-manager.ts';

// The edge's relay bookkeeping, on a real hub and the in-memory registry and bus: which
// streams get a relay, when a relay's slot is given back, and viewers a relay must not strand.

const FORMAT = defineOutputFormat('test', () => Buffer.alloc(0));

class WaitingViewer implements Sink {
  readonly id: string;
  readonly format = FORMAT;
  readonly bufferedBytes = 0;
  ended: string | null = null;
  constructor(id: string) {
    this.id = id;
  }
  start(): void {}
  write(): void {}
  cork(): void {}
  uncork(): void {}
  end(reason: string): void {
    this.ended = reason;
  }
}

function setup(o: { maxRelays?: number; waitPublisherMs?: number } = {}): {
  hub: StreamHub;
  relays: RelayManager;
  bus: MemoryBus;
  counters: Counters;
} {
  const counters = new Counters();
  const log = silentLogger();
  const hub = new StreamHub(
    {
      gopCache: true,
      gopCacheMaxBytes: 1 << 20,
      waitPublisherMs: o.waitPublisherMs ?? 30_000,
      maxBufferedBytes: 1 << 20,
      stallTimeoutMs: 5000,
      writeCoalesceMs: 0,
    },
    { log, counters },
  );
  const bus = new MemoryBus();
  const relays = new RelayManager({
    holder: { nodeId: 'edge-1', instanceId: 'edge-1-instance' },
    hub,
    registry: new MemoryRegistry(),
    bus,
    secret: 'test-relay-secret',
    log,
    counters,
    opts: {
      idleStopMs: 10_000,
      maxRelays: o.maxRelays ?? 10,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      pullTimeoutMs: 500,
      ownerPollMs: 50,
      receiveTimeoutMs: 1000,
      noOwnerGiveUpMs: 100,
    },
  });
  return { hub, relays, bus, counters };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a relay that never got its stream gives its slot back as soon as its last viewer leaves', () => {
  const { hub, relays } = setup({ maxRelays: 1 });
  const s = hub.getOrCreate('live/junk');
  const sub = s.addSubscriber(new WaitingViewer('v1'));
  assert.equal(relays.count, 1);
  assert.equal(relays.admit('live/other').ok, false, 'the one slot is taken');
  s.removeSubscriber(sub);
  assert.equal(relays.count, 0, 'freed at once, not after idleStopMs');
  assert.equal(relays.admit('live/other').ok, true);
  relays.stopAll();
});

test('no owner past the give-up time: the relay keeps waiting while a viewer does, and one publish later reaches it', async () => {
  const { hub, relays, bus } = setup();
  const s = hub.getOrCreate('live/late');
  s.addSubscriber(new WaitingViewer('early'));
  await sleep(300); // far past noOwnerGiveUpMs (100): a viewer still waits, so does the relay
  assert.equal(relays.count, 1, 'not given up while a viewer waits');
  // A relay gone anyway (stopped by control): viewers still waiting get one back on a publish.
  relays.stop('live/late', 'control request');
  assert.equal(relays.count, 0);
  bus.publish(Subject.StreamPublished, {
    v: 1,
    nodeId: 'origin-1',
    instanceId: 'origin-1-instance',
    ts: Date.now(),
    key: 'live/late',
    epoch: 7,
    sessionId: 'rtmp-1',
  });
  await bus.flush();
  assert.equal(relays.count, 1, 'a publish of a key with waiting viewers starts its relay');
  relays.stopAll();
});
