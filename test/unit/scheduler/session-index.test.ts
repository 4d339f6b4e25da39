import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionStartedEvent } from '../../../libs/cluster/types.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { SessionIndex } from '../../../services/scheduler/session-index.ts';

const ev = (over: Partial<SessionStartedEvent>): SessionStartedEvent => ({
  v: 1,
  nodeId: 'edge-1',
  instanceId: 'inst-aaaaaaaa',
  ts: 1000,
  sessionId: 'rtmp-1',
  kind: 'player',
  protocol: 'rtmp',
  key: 'live/a',
  remote: '127.0.0.1:5000',
  ...over,
});

test('sessions are indexed by node and key; stopped ones go', () => {
  const idx = new SessionIndex({ maxSessions: 10, counters: new Counters() });
  idx.started(ev({}));
  idx.started(
    ev({ sessionId: 'rtmp-2', nodeId: 'origin-1', instanceId: 'inst-bbbbbbbb', kind: 'publisher' }),
  );
  idx.started(ev({ sessionId: 'rtmp-3', key: 'live/b' }));
  idx.started(ev({})); // a duplicate
  assert.equal(idx.size, 3);
  assert.deepEqual(
    idx
      .ofKey('live/a')
      .map((s) => s.sessionId)
      .sort(),
    ['rtmp-1', 'rtmp-2'],
  );
  assert.equal(idx.find('rtmp-2')?.nodeId, 'origin-1');
  // A stop from another process under the node id changes nothing.
  idx.stopped({ nodeId: 'edge-1', instanceId: 'inst-cccccccc', sessionId: 'rtmp-1' });
  assert.equal(idx.size, 3);
  idx.stopped({ nodeId: 'edge-1', instanceId: 'inst-aaaaaaaa', sessionId: 'rtmp-1' });
  assert.equal(idx.find('rtmp-1'), undefined);
  assert.deepEqual(
    idx.ofKey('live/a').map((s) => s.sessionId),
    ['rtmp-2'],
  );
});

test("a node's sessions go when it is dropped or restarts; the bound is counted", () => {
  const counters = new Counters();
  const idx = new SessionIndex({ maxSessions: 3, counters });
  idx.started(ev({ sessionId: 's1' }));
  idx.started(ev({ sessionId: 's2' }));
  idx.started(ev({ sessionId: 's3', nodeId: 'edge-2' }));
  idx.started(ev({ sessionId: 's4', nodeId: 'edge-2' }));
  assert.equal(idx.size, 3);
  assert.equal(counters.get('scheduler_view_over_limit', { what: 'sessions' }), 1);
  // edge-1 restarted: its old sessions are gone with the first event of the new process.
  idx.started(ev({ sessionId: 's5', instanceId: 'inst-dddddddd' }));
  assert.deepEqual(
    idx
      .all()
      .map((s) => s.sessionId)
      .sort(),
    ['s3', 's5'],
  );
  idx.dropNode('edge-2');
  assert.deepEqual(
    idx.all().map((s) => s.sessionId),
    ['s5'],
  );
  assert.deepEqual(
    idx.ofKey('live/a').map((s) => s.sessionId),
    ['s5'],
  );
});
