import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlayProtocol, StreamOwner } from '../../../libs/cluster/types.ts';
import { pickEdge, pickOrigin } from '../../../services/scheduler/routing.ts';
import { HEARTBEAT_MS, node, NOW, viewOf, type NodeSpec, type TestNode } from './fixtures.ts';

const KEY = 'live/a';

function pick(
  specs: (NodeSpec & { ageMs?: number })[],
  o: { preferRelaying?: boolean; maxLoadRatio?: number; protocol?: PlayProtocol; key?: string } = {},
) {
  const ageMs = Object.fromEntries(specs.map((s) => [s.id, s.ageMs ?? 0]));
  const { view, candidates, now } = viewOf(specs.map(node), {
    ageMs,
    ...(o.maxLoadRatio !== undefined ? { maxLoadRatio: o.maxLoadRatio } : {}),
  });
  return pickEdge(view, candidates, o.key ?? KEY, o.protocol ?? 'flv', {
    now,
    preferRelaying: o.preferRelaying ?? true,
  });
}

/** `want`: the edge chosen, null for none, '*' for "any, as long as the reason matches". */
const cases: {
  name: string;
  nodes: (NodeSpec & { ageMs?: number })[];
  want: string | null;
  reason?: string;
  o?: Parameters<typeof pick>[1];
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
    name: 'a relaying edge not heard for more than two heartbeats is skipped',
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
  {
    name: 'a relaying edge that does not serve the protocol is skipped',
    nodes: [{ id: 'e1', relaying: { [KEY]: 1 }, protocols: ['rtmp'] }, { id: 'e2' }],
    want: 'e2',
    reason: 'hash',
  },
  {
    name: 'only edges serving the protocol are offered',
    nodes: [
      { id: 'e1', protocols: ['rtmp', 'flv'] },
      { id: 'e2', protocols: ['rtmp', 'flv'] },
      { id: 'e3', protocols: ['rtmp', 'flv', 'hls'] },
    ],
    o: { protocol: 'hls' },
    want: 'e3',
    reason: 'hash',
  },
  {
    name: 'no edge serves the protocol',
    nodes: [{ id: 'e1', protocols: ['rtmp'] }],
    o: { protocol: 'ts' },
    want: null,
  },
  { name: 'no edges at all', nodes: [{ id: 'o1', role: 'origin' }], want: null },
  {
    name: 'all edges overloaded, draining or not heard from',
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
    const got = pick(c.nodes, c.o);
    if (c.want !== '*') assert.equal(got?.node.nodeId ?? null, c.want);
    if (c.reason) assert.equal(got?.reason, c.reason);
  });
}

test('pickEdge: same view, same answer, whatever order the nodes were learned in', () => {
  const nodes = ['e1', 'e2', 'e3', 'e4', 'e5'].map((id, i) => node({ id, players: i * 7 }));
  const a = viewOf(nodes);
  const b = viewOf([...nodes].reverse());
  for (let i = 0; i < 200; i++) {
    const k = `live/s${i}`;
    const o = { now: a.now, preferRelaying: true };
    assert.equal(
      pickEdge(a.view, a.candidates, k, 'flv', o)?.node.nodeId,
      pickEdge(b.view, b.candidates, k, 'flv', o)?.node.nodeId,
    );
  }
});

test('pickEdge: hashing spreads new streams and weights by free capacity', () => {
  const { view, candidates, now } = viewOf([
    node({ id: 'busy', players: 75 }),
    node({ id: 'idle', players: 25 }),
  ]);
  const n = { busy: 0, idle: 0 };
  for (let i = 0; i < 1000; i++) {
    n[
      pickEdge(view, candidates, `live/s${i}`, 'flv', { now, preferRelaying: true })!.node.nodeId as
        'busy' | 'idle'
    ]++;
  }
  // Free 25 vs 75: about 250 / 750.
  assert.ok(n.idle > 2 * n.busy && n.busy > 150, JSON.stringify(n));
});

test('pickEdge: candidates follow the view (a heartbeat with more load, a drain, time passing)', () => {
  const { view, candidates, now } = viewOf([node({ id: 'e1', relaying: { [KEY]: 1 } }), node({ id: 'e2' })]);
  const at = (t: number) =>
    pickEdge(view, candidates, KEY, 'flv', { now: t, preferRelaying: true })?.node.nodeId;
  assert.equal(at(now), 'e1');
  const e1 = view.node('e1')!;
  const idle = hb(e1.info);
  view.heartbeat(e1, { ...idle, load: { ...idle.load, players: 99 } }, now);
  assert.equal(at(now), 'e2', 'overloaded');
  view.heartbeat(e1, { ...idle, draining: true }, now);
  assert.equal(at(now), 'e2', 'draining');
  view.heartbeat(e1, idle, now);
  assert.equal(at(now), 'e1');
  assert.equal(at(now + 2 * HEARTBEAT_MS + 1), undefined, 'nobody heard from for two heartbeats');
});

function hb(info: TestNode | Omit<TestNode, 'streams'>) {
  return { ...info, v: 1 as const, ts: NOW, presenceSeq: 1, load: { ...info.load }, draining: false };
}

test('pickEdge: records with malformed load are never chosen (no NaN scores)', () => {
  const bad = [
    { ...node({ id: 'e1' }), load: undefined },
    { ...node({ id: 'e2' }), load: { ...node({ id: 'e2' }).load, players: 'many' } },
    { ...node({ id: 'e3' }), protocols: 'flv' },
    node({ id: 'e4' }),
  ] as unknown as TestNode[];
  const { view, candidates, now } = viewOf(bad);
  for (let i = 0; i < 20; i++) {
    assert.equal(
      pickEdge(view, candidates, `live/${i}`, 'flv', { now, preferRelaying: true })?.node.nodeId,
      'e4',
    );
  }
});

const owner = (nodeId: string, instanceId = `${nodeId}-instance`): StreamOwner => ({
  key: KEY,
  nodeId,
  instanceId,
  epoch: 7,
  since: NOW - 1000,
  ttlMs: 9000,
  relayAddr: '',
  media: {},
});

const originCases: {
  name: string;
  nodes: (NodeSpec & { ageMs?: number })[];
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
    name: 'the owner without a record: nobody (others would refuse the publish)',
    nodes: [{ id: 'o2', role: 'origin' }],
    owner: owner('o1'),
    want: null,
  },
  {
    name: 'the owning process is gone, another one runs under its node id: nobody',
    nodes: [{ id: 'o1', role: 'origin' }],
    owner: owner('o1', 'o1-dead-instance'),
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
    name: 'no owner: draining, silent and full origins are skipped',
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
    const ageMs = Object.fromEntries(c.nodes.map((s) => [s.id, s.ageMs ?? 0]));
    const { view, candidates, now } = viewOf(c.nodes.map(node), { ageMs });
    const got = pickOrigin(view, candidates, KEY, c.owner, now);
    assert.equal(got?.node.nodeId ?? null, c.want);
    if (c.isOwner !== undefined) assert.equal(got?.owner, c.isOwner);
  });
}

test('pickOrigin: equally loaded origins share new streams', () => {
  const { view, candidates, now } = viewOf(['o1', 'o2', 'o3'].map((id) => node({ id, role: 'origin' })));
  const n = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const id = pickOrigin(view, candidates, `live/s${i}`, null, now)!.node.nodeId;
    n.set(id, (n.get(id) ?? 0) + 1);
  }
  for (const id of ['o1', 'o2', 'o3']) assert.ok((n.get(id) ?? 0) > 50, JSON.stringify([...n]));
});
