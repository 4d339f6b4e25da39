import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../../libs/cluster/memory-bus.ts';
import { Subject } from '../../../libs/cluster/types.ts';

const ev = (key: string) => ({
  v: 1 as const,
  nodeId: 'node-1',
  instanceId: 'instance-0001',
  ts: 1,
  key,
  epoch: 1,
  sessionId: 'session-1',
});

describe('MemoryBus queue groups', () => {
  it('gives each event to one member of a group, while plain subscribers get all', async () => {
    const bus = new MemoryBus();
    const a: string[] = [];
    const b: string[] = [];
    const all: string[] = [];
    const offA = bus.subscribeQueue(Subject.StreamPublished, 'g', (e) => a.push(e.key));
    bus.subscribeQueue(Subject.StreamPublished, 'g', (e) => b.push(e.key));
    bus.subscribe(Subject.StreamPublished, (e) => all.push(e.key));
    for (let i = 0; i < 10; i++) bus.publish(Subject.StreamPublished, ev(`live/${i}`));
    await bus.flush();
    assert.equal(all.length, 10);
    assert.equal(a.length + b.length, 10);
    assert.ok(a.length > 0 && b.length > 0);
    assert.deepEqual([...a, ...b].sort(), [...all].sort());
    offA();
    bus.publish(Subject.StreamPublished, ev('live/x'));
    await bus.flush();
    assert.equal(b.at(-1), 'live/x');
    await bus.close();
  });
});
