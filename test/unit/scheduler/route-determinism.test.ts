import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteAnswer } from '../../../services/scheduler/scheduler.ts';
import { node, viewOf, type TestNode } from './fixtures.ts';
import { Scheduler } from '../../../services/scheduler/scheduler.ts';
import { OwnerLookups } from '../../../services/scheduler/owner-lookups.ts';
import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';

// Routes at cluster scale (1000 edges, 10k streams) are a pure function of the view's content:
// replicas that learned the same things in any order answer alike. (Their cost is measured by
// `npm run sim`, over HTTP against a real scheduler, not by a timed unit test.)

const EDGES = 1000;
const STREAMS = 10_000;

function cluster(): TestNode[] {
  const nodes = Array.from({ length: EDGES }, (_, i) =>
    node({ id: `edge-${String(i).padStart(4, '0')}`, players: i % 50, max: 1000 }),
  );
  // Each stream relayed by one or two edges.
  for (let s = 0; s < STREAMS; s++) {
    for (let r = 0; r <= s % 2; r++) {
      nodes[(s * 7 + r * 13) % EDGES]!.streams[`live/s${s}`] = {
        viewers: 3,
        relaying: true,
        publishing: false,
      };
    }
  }
  return nodes;
}

test('two views with the same content give the same routes for every key', () => {
  const nodes = cluster();
  const a = viewOf(nodes);
  const b = viewOf([...nodes].reverse());
  const route = (v: typeof a, key: string): string => {
    const s = new Scheduler({
      view: v.view,
      candidates: v.candidates,
      lookups: new OwnerLookups(new MemoryRegistry(), v.view, 0),
      routing: { maxLoadRatio: 0.9, preferRelaying: true },
    });
    return (s.route(key, 'flv').body as RouteAnswer).url;
  };
  for (let i = 0; i < 3000; i++) {
    const key = i % 2 ? `live/s${i}` : `live/other${i}`;
    assert.equal(route(a, key), route(b, key), key);
  }
});
