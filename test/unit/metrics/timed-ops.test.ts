import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../../libs/cluster/memory-bus.ts';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import { timedBus, timedRegistry } from '../../../libs/cluster/timed.ts';
import { Subject, type StreamPublishedEvent } from '../../../libs/cluster/types.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { parseExposition, valueOf } from '../../integration/helpers/exposition.ts';

const holder = { nodeId: 'n1', instanceId: 'instance-0001' };

async function families(c: Counters): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await c.registry.metrics());
}

test('registry: each op timed by name, answers unchanged, untimed members reach the target', async () => {
  const counters = new Counters();
  const raw = new MemoryRegistry();
  const r = timedRegistry(raw, counters);
  const claim = await r.claim('live/a', holder, 5000);
  assert.ok(claim.ok);
  assert.equal((await r.lookup('live/a'))?.epoch, claim.epoch);
  assert.equal(await r.lookup('live/none'), null);
  assert.equal(await r.refresh('live/a', holder, claim.epoch, 5000), true);
  const f = await families(counters);
  assert.equal(valueOf(f, 'sluice_registry_op_duration_seconds_count', { op: 'claim' }), 1);
  assert.equal(valueOf(f, 'sluice_registry_op_duration_seconds_count', { op: 'lookup' }), 2);
  assert.equal(valueOf(f, 'sluice_registry_op_duration_seconds_count', { op: 'refresh' }), 1);
  assert.equal(valueOf(f, 'sluice_registry_op_duration_seconds_count'), 4);
  assert.ok(valueOf(f, 'sluice_registry_op_duration_seconds_sum') > 0);
  assert.equal(counters.get('registry_op_errors', { op: 'claim' }), 0);
  // close is not an op.
  await r.close();
  const g = await families(counters);
  assert.equal(valueOf(g, 'sluice_registry_op_duration_seconds_count'), 4);
});

test('bus: publish and request timed; a throw and a rejection pass through and are counted', async () => {
  const counters = new Counters();
  const bus = timedBus(new MemoryBus({ counters }), counters);
  let heard = 0;
  bus.subscribe(Subject.StreamPublished, () => heard++);
  const ev: StreamPublishedEvent = {
    v: 1,
    ...holder,
    ts: Date.now(),
    key: 'live/a',
    epoch: 1,
    sessionId: 's1',
  };
  bus.publish(Subject.StreamPublished, ev);
  // An invalid event is a bug the bus throws on: the caller still sees the same error.
  assert.throws(() => bus.publish(Subject.StreamPublished, { ...ev, epoch: -1 }));
  // Nobody serves this node: the request rejects, as without the proxy.
  await assert.rejects(bus.requestControl('nobody', { op: 'ping' }, 100));
  assert.equal(bus.connected, true);
  await new Promise((r) => setImmediate(r));
  assert.equal(heard, 1);
  const f = await families(counters);
  assert.equal(valueOf(f, 'sluice_bus_op_duration_seconds_count', { op: 'publish' }), 2);
  assert.equal(valueOf(f, 'sluice_bus_op_duration_seconds_count', { op: 'request' }), 1);
  assert.equal(valueOf(f, 'sluice_bus_op_errors_total', { op: 'publish' }), 1);
  assert.equal(valueOf(f, 'sluice_bus_op_errors_total', { op: 'request' }), 1);
  assert.ok(f.get('sluice_bus_op_errors_total')?.help.includes('failed'));
  await bus.close();
});

test('two wrappers on one node registry share the histogram; rejections are errors', async () => {
  const counters = new Counters();
  const a = timedRegistry(new MemoryRegistry(), counters);
  const b = timedRegistry(new MemoryRegistry(), counters);
  await a.lookup('live/x');
  await assert.rejects(b.lookup('x'), /invalid stream key/);
  const f = await families(counters);
  assert.equal(valueOf(f, 'sluice_registry_op_duration_seconds_count', { op: 'lookup' }), 2);
  assert.equal(valueOf(f, 'sluice_registry_op_errors_total', { op: 'lookup' }), 1, 'the rejected one');
});
