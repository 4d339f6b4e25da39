import type { ClusterNode } from '../../../services/scheduler/registry-cache.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamOwner } from '../../../libs/cluster/types.ts';
import { edgeCandidates, pickEdge, pickOrigin } from '../../../services/scheduler/routing.ts';
import { HEARTBEAT_MS, node, NOW, type NodeSpec } from './fixtures.ts';

const KEY = 'live/a';
const opts = { now: NOW, heartbeatMs: HEARTBEAT_MS, maxLoadRatio: 0.9, preferRelaying: true };

/** `want`: the edge chosen, null for none, '*' for "any, as long as the reason matches". */
const cases: {
  name: string;
  nodes: NodeSpec[];
  want: string | null;
  reason?: string;
  o?: Partial<typeof opts>;
}[] = [
  {
    name: 'a relaying edge wins over hashing',
    nodes: [{ id: 'e1' }, { id: 'e2', relaying: { [KEY]: 3 }, players: 50 }, { id: 'e3' }],
    want: 'e2',
    reason: 'relaying',
  },
  {
    name: 'the least loaded of several relaying edges',
    nodes: [
      { id: 'e1', relaying: { [KEY]: 5 }, players: 80 },
      { id: 'e2', relaying: { [KEY]: 5 }, players: 30 },
      { id: 'e3', relaying: { [KEY]: 5 }, players: 60 },
    ],
    want: 'e2',
    reason: 'relaying',
  },
  {
    name: 'load ratio counts relays too, and uses maxConnections',
    nodes: [
      { id: 'e1', relaying: { [KEY]: 1 }, players: 10, relays: 40, max: 100 },
      { id: 'e2', relaying: { [KEY]: 1 }, players: 100, max: 1000 },
    ],
    want: 'e2',
    reason: 'relaying',
  },
  {
    name: 'a relaying edge over maxLoadRatio is skipped; hashing picks among the rest',
    nodes: [{ id: 'e1', relaying: { [KEY]: 90 }, players: 91 }, { id: 'e2' }],
    want: 'e2',
    reason: 'hash',
  },
  {
    name: 'exactly at maxLoadRatio still takes viewers (only exceeding it skips)',
    nodes: [{ id: 'e1', relaying: { [KEY]: 90 }, players: 90 }, { id: 'e2' }],
    want: 'e1',
    reason: 'relaying',
  },
  {
    name: 'a draining relaying edge is skipped',
    nodes: [{ id: 'e1', relaying: { [KEY]: 1 }, draining: true }, { id: 'e2' }],
    want: 'e2',
    reason: 'hash',
  },
  {
    name: 'an expired (stale heartbeat) relaying edge is skipped',
    nodes: [{ id: 'e1', relaying: { [KEY]: 1 }, ageMs: 2 * HEARTBEAT_MS + 1 }, { id: 'e2' }],
    want: 'e2',
    reason: 'hash',
  },
  {
    name: 'one heartbeat late is still healthy',
    nodes: [{ id: 'e1', relaying: { [KEY]: 1 }, ageMs: 2 * HEARTBEAT_MS }, { id: 'e2' }],
    want: 'e1',
    reason: 'relaying',
  },
  {
    name: 'a node whose clock is ahead counts as fresh',
    nodes: [{ id: 'e1', relaying: { [KEY]: 1 }, ageMs: -5000 }],
    want: 'e1',
    reason: 'relaying',
  },
  {
    name: 'origins and standalone nodes are never edges',
    nodes: [
      { id: 'o1', role: 'origin', publishing: { [KEY]: 0 } },
      { id: 's1', role: 'standalone' },
      { id: 'e1', players: 10 },
    ],
    want: 'e1',
    reason: 'hash',
  },
  {
    name: 'relaying another key does not count',
    nodes: [{ id: 'e1', relaying: { 'live/b': 1 } }],
    want: 'e1',
    reason: 'hash',
  },
  {
    name: 'preferRelaying off: hashing decides even when an edge relays',
    nodes: [
      { id: 'e1', relaying: { [KEY]: 1 } },
      { id: 'e2', relaying: { [KEY]: 1 } },
      { id: 'e3', relaying: { [KEY]: 1 } },
    ],
    o: { preferRelaying: false },
    want: '*',
    reason: 'hash',
  },
  { name: 'no edges at all', nodes: [{ id: 'o1', role: 'origin' }], want: null },
  {
    name: 'all edges overloaded, draining or expired',
    nodes: [
      { id: 'e1', players: 95 },
      { id: 'e2', draining: true },
      { id: 'e3', ageMs: 60_000 },
    ],
    want: null,
  },
  {
    name: 'a full edge (free 0) is skipped even with maxLoadRatio 1',
    nodes: [{ id: 'e1', players: 100 }],
    o: { maxLoadRatio: 1 },
    want: null,
  },
  { name: 'no usable capacity reported', nodes: [{ id: 'e1', max: 0 }], want: null },
];

for (const c of cases) {
  test(`pickEdge: ${c.name}`, () => {
    const got = pickEdge(KEY, c.nodes.map(node), { ...opts, ...c.o });
    if (c.want !== '*') assert.equal(got?.node.nodeId ?? null, c.want);
    if (c.reason) assert.equal(got?.reason, c.reason);
  });
}

test('pickEdge: same inputs, same answer (replicas agree), whatever the order of the node list', () => {
  const nodes = ['e1', 'e2', 'e3', 'e4', 'e5'].map((id, i) => node({ id, players: i * 7 }));
  for (let i = 0; i < 100; i++) {
    const k = `live/s${i}`;
    const a = pickEdge(k, nodes, opts);
    const b = pickEdge(k, [...nodes].reverse(), opts);
    assert.equal(a?.node.nodeId, b?.node.nodeId);
  }
});

test('pickEdge: hashing spreads new streams and weights by free capacity', () => {
  const nodes = [node({ id: 'busy', players: 75 }), node({ id: 'idle', players: 25 })];
  const n = { busy: 0, idle: 0 };
  for (let i = 0; i < 1000; i++) n[pickEdge(`live/s${i}`, nodes, opts)!.node.nodeId as 'busy' | 'idle']++;
  // Free 25 vs 75: about 250 / 750.
  assert.ok(n.idle > 2 * n.busy && n.busy > 150, JSON.stringify(n));
});

test('pickEdge: `eligible` filters edges (e.g. no address for the protocol)', () => {
  const nodes = [node({ id: 'e1', relaying: { [KEY]: 1 } }), node({ id: 'e2' })];
  const got = pickEdge(KEY, nodes, { ...opts, eligible: (n) => n.nodeId !== 'e1' });
  assert.equal(got?.node.nodeId, 'e2');
});

test('edgeCandidates tolerates malformed records from the registry', () => {
  const bad = [
    { ...node({ id: 'e1' }), load: undefined },
    { ...node({ id: 'e2' }), load: { ...node({ id: 'e2' }).load, players: 'many' } },
    { ...node({ id: 'e3' }), updatedAt: 'yesterday' },
    { ...node({ id: 'e4' }), streams: undefined },
  ] as unknown as ClusterNode[];
  assert.deepEqual(
    edgeCandidates(bad, opts).map((n) => n.nodeId),
    ['e4'],
  );
  assert.equal(pickEdge(KEY, bad, opts)?.node.nodeId, 'e4');
});

const owner = (nodeId: string): StreamOwner => ({
  key: KEY,
  nodeId,
  instanceId: `${nodeId}-instance`,
  epoch: 7,
  since: NOW - 1000,
  ttlMs: 9000,
  relayAddr: '',
  media: {},
});
const oopts = { now: NOW, heartbeatMs: HEARTBEAT_MS };

const originCases: {
  name: string;
  nodes: NodeSpec[];
  owner: StreamOwner | null;
  want: string | null;
  isOwner?: boolean;
}[] = [
  {
    name: 'the owner, even when busier than others',
    nodes: [
      { id: 'o1', role: 'origin', players: 80 },
      { id: 'o2', role: 'origin' },
    ],
    owner: owner('o1'),
    want: 'o1',
    isOwner: true,
  },
  {
    name: 'the owner without a live record: nobody (others would refuse the publish)',
    nodes: [{ id: 'o2', role: 'origin' }],
    owner: owner('o1'),
    want: null,
  },
  {
    name: 'no owner: the least loaded origin (publishers count)',
    nodes: [
      { id: 'o1', role: 'origin', publishers: 30 },
      { id: 'o2', role: 'origin', publishers: 5, players: 5 },
      { id: 'e1', role: 'edge' },
    ],
    owner: null,
    want: 'o2',
    isOwner: false,
  },
  {
    name: 'no owner: draining, expired and full origins are skipped',
    nodes: [
      { id: 'o1', role: 'origin', draining: true },
      { id: 'o2', role: 'origin', ageMs: 10_000 },
      { id: 'o3', role: 'origin', publishers: 100 },
      { id: 'o4', role: 'origin', publishers: 99 },
    ],
    owner: null,
    want: 'o4',
  },
  { name: 'no origins', nodes: [{ id: 'e1' }], owner: null, want: null },
];

for (const c of originCases) {
  test(`pickOrigin: ${c.name}`, () => {
    const got = pickOrigin(KEY, c.owner, c.nodes.map(node), oopts);
    assert.equal(got?.node.nodeId ?? null, c.want);
    if (c.isOwner !== undefined) assert.equal(got?.owner, c.isOwner);
  });
}

test('pickOrigin: equally loaded origins share new streams', () => {
  const nodes = ['o1', 'o2', 'o3'].map((id) => node({ id, role: 'origin' }));
  const n = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const id = pickOrigin(`live/s${i}`, null, nodes, oopts)!.node.nodeId;
    n.set(id, (n.get(id) ?? 0) + 1);
  }
  for (const id of ['o1', 'o2', 'o3']) assert.ok((n.get(id) ?? 0) > 50, JSON.stringify([...n]));
});
