import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkControlReply,
  checkControlRequest,
  checkEvent,
  controlReplySchema,
  controlRequestSchema,
  controlSubject,
  decodeEvent,
  encodeEvent,
  eventSchemas,
  InvalidEventError,
} from '../../../libs/cluster/event-schemas.ts';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type EventMap,
  type NodeLoad,
} from '../../../libs/cluster/types.ts';

// Keeps schemas and TS interfaces in step: `full` must name every property (Required<>),
// `minimal` exactly the required ones (Pick<> plus excess-property checks), so tsc fails when
// types.ts changes; the tests below fail when a schema disagrees.

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Minimal<T> = Pick<T, RequiredKeys<T>>;

const base = { v: 1, nodeId: 'origin-1', instanceId: '0123456789abcdef', ts: 1_700_000_000_000 } as const;
const load: Required<NodeLoad> = {
  publishers: 1,
  players: 20,
  relays: 2,
  bytesInPerSec: 312_500.5,
  bytesOutPerSec: 6_250_000,
  cpuPercent: 37.5,
  maxConnections: 5000,
};

const full: { [S in Subject]: Required<EventMap[S]> } = {
  [Subject.StreamPublished]: { ...base, key: 'live/cam1', epoch: 7, sessionId: 'pub-0a1b2c3d' },
  [Subject.StreamUnpublished]: {
    ...base,
    key: 'live/cam1',
    epoch: 7,
    sessionId: 'pub-0a1b2c3d',
    reason: 'closed',
  },
  [Subject.SessionStarted]: {
    ...base,
    sessionId: 'play-1',
    kind: 'player',
    protocol: 'http-flv',
    key: 'live/cam1',
    remote: '10.0.0.9:51000',
    epoch: 7,
  },
  [Subject.SessionStopped]: {
    ...base,
    sessionId: 'play-1',
    kind: 'player',
    protocol: 'ws-flv',
    key: 'app/sub/name',
    remote: '[::1]:51000',
    epoch: 7,
    durationMs: 61_000,
    bytesIn: 512,
    bytesOut: 40_000_000,
    reason: 'peer closed',
  },
  [Subject.RelayStarted]: { ...base, nodeId: 'edge-1', key: 'live/cam1', fromNodeId: 'origin-1', epoch: 7 },
  [Subject.RelayStopped]: { ...base, key: 'live/cam1', fromNodeId: 'origin-1', epoch: 7, reason: 'idle' },
  [Subject.NodeHeartbeat]: {
    ...base,
    role: 'origin',
    internal: { rtmp: '10.0.0.1:1935', http: '10.0.0.1:8080', api: '10.0.0.1:8083', rtsp: '10.0.0.1:5544' },
    public: {
      rtmp: 'origin.example:1935',
      http: 'origin.example:8080',
      api: 'origin.example:8083',
      rtsp: 'origin.example:5544',
    },
    protocols: ['rtmp', 'flv', 'ws-flv'],
    load,
    draining: false,
    startedAt: 1_699_999_000_000,
    presenceSeq: 0,
  },
  [Subject.NodePresence]: {
    ...base,
    seq: 12,
    streams: { 'live/cam1': { viewers: 4, relaying: false, publishing: true }, 'live/gone': null },
  },
  [Subject.RecordStarted]: {
    ...base,
    key: 'live/cam1',
    format: 'flv',
    path: '/var/lib/sluice/record/flv/live/cam1/cam1-20261127-180501-0a1b2c3d.flv',
    sessionId: 'rtmp-0a1b2c3d',
  },
  [Subject.RecordStopped]: {
    ...base,
    key: 'app/sub/cam_1',
    format: 'ts',
    path: '/rec/ts/app/sub/cam_1/cam_1-20261127-180501-0a1b2c3d.ts',
    sessionId: 'rtmp-0a1b2c3d',
    bytes: 123_456_789,
    durationMs: 3_600_000,
    droppedFrames: 12,
    reason: 'write error: ENOSPC',
  },
};

const minimal: { [S in Subject]: Minimal<EventMap[S]> } = {
  ...full,
  // Every address is optional (a node that serves no HTTP has no http address).
  [Subject.NodeHeartbeat]: { ...full[Subject.NodeHeartbeat], internal: {}, public: {} },
  [Subject.SessionStarted]: {
    ...base,
    sessionId: 'pub-1',
    kind: 'publisher',
    protocol: 'rtmp',
    key: 'live/cam1',
    remote: '',
  },
  [Subject.SessionStopped]: {
    ...base,
    sessionId: 'relay-1',
    kind: 'relay',
    protocol: 'rtmp',
    key: 'live/cam1',
    remote: '127.0.0.1:1935',
    durationMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    reason: '',
  },
};

const requests: { [Op in ControlRequest['op']]: Extract<ControlRequest, { op: Op }> } = {
  kick: { op: 'kick', sessionId: 'play-1' },
  'relay.start': { op: 'relay.start', key: 'live/cam1' },
  'relay.stop': { op: 'relay.stop', key: 'live/cam1' },
  'relay.pull.start': {
    op: 'relay.pull.start',
    key: 'live/cam1',
    url: 'rtmp://10.0.0.1/live/cam1',
    retryNum: -1,
    autoStopAfterNoViewersMs: -1,
    timeoutMs: 5000,
    rtspTransport: 'tcp',
  },
  'relay.pull.stop': { op: 'relay.pull.stop', key: 'live/cam1' },
  stats: { op: 'stats' },
  ping: { op: 'ping' },
};
const replies: Required<ControlReply>[] = [
  { ok: true, error: '', code: 'invalid', data: { sessions: 3, nested: [1, 'a', null] } },
  { ok: false, error: 'no such session', code: 'not_found', data: null },
];

const subjects = Object.values(Subject);
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

interface ObjectSchema {
  properties: Record<string, { $ref?: string }>;
  required?: string[];
  definitions?: Record<string, ObjectSchema>;
}

/** Property names and required names of a schema level equal the TS keys; recurses into $ref'd objects. */
function assertShape(
  schema: ObjectSchema,
  root: ObjectSchema,
  fullValue: object,
  minimalValue: object,
  at: string,
): void {
  assert.deepEqual(
    sorted(Object.keys(schema.properties)),
    sorted(Object.keys(fullValue)),
    `${at}: properties`,
  );
  assert.deepEqual(sorted(schema.required ?? []), sorted(Object.keys(minimalValue)), `${at}: required`);
  for (const [k, v] of Object.entries(fullValue)) {
    if (typeof v !== 'object' || v === null) continue;
    const ref = schema.properties[k]?.$ref?.replace('#/definitions/', '');
    const sub = ref ? root.definitions?.[ref] : undefined;
    if (sub?.properties)
      assertShape(sub, root, v, (minimalValue as Record<string, object>)[k] ?? v, `${at}.${k}`);
  }
}

test('event schemas: properties and required fields match the TS interfaces', () => {
  for (const s of subjects) {
    const schema = eventSchemas[s] as ObjectSchema;
    assertShape(schema, schema, full[s], minimal[s], s);
  }
});

test('event schemas: a full and a minimal example of every event validate and survive JSON', () => {
  for (const s of subjects) {
    for (const example of [full[s], minimal[s]]) {
      const r = checkEvent(s, example);
      assert.ok(r.ok, `${s}: ${r.ok ? '' : r.problems.join('; ')}`);
      assert.deepEqual(decodeEvent(s, encodeEvent(s, example as EventMap[typeof s])), {
        ok: true,
        value: example,
      });
    }
  }
});

test('control schemas: every request op and reply shape validates', () => {
  assert.deepEqual(
    sorted(Object.keys(requests)),
    sorted((controlRequestSchema as { properties: { op: { enum: string[] } } }).properties.op.enum),
  );
  for (const req of Object.values(requests)) assert.ok(checkControlRequest(req).ok, req.op);
  assert.deepEqual(
    sorted(Object.keys((controlReplySchema as ObjectSchema).properties)),
    sorted(Object.keys(replies[0]!)),
  );
  for (const reply of [...replies, { ok: true }]) assert.ok(checkControlReply(reply).ok);
});

/** A value of another JSON type than `v` has. */
const wrongType = (v: unknown): unknown =>
  typeof v === 'string' ? 42 : typeof v === 'object' && v !== null ? 'x' : 'seven';

test('event schemas: every missing field, extra field and wrongly typed field fails', () => {
  for (const s of subjects) {
    const example: Record<string, unknown> = full[s];
    for (const k of Object.keys(minimal[s])) {
      const { [k]: _gone, ...rest } = example;
      assert.equal(checkEvent(s, rest).ok, false, `${s} without ${k}`);
    }
    for (const k of Object.keys(example)) {
      assert.equal(
        checkEvent(s, { ...example, [k]: wrongType(example[k]) }).ok,
        false,
        `${s} with ${k} of wrong type`,
      );
      assert.equal(checkEvent(s, { ...example, [k]: null }).ok, false, `${s} with ${k} null`);
    }
    assert.equal(checkEvent(s, { ...example, extra: 1 }).ok, false, `${s} with an extra field`);
    for (const bad of [null, [], 'x', 1])
      assert.equal(checkEvent(s, bad).ok, false, `${s} as ${JSON.stringify(bad)}`);
  }
});

const withKey = subjects.filter((s) => 'key' in full[s]);
const badKeys = [
  'cam1',
  '../etc',
  'live/..',
  './x',
  'a/./b',
  '/live/cam1',
  'live/',
  'live//cam1',
  'live/cam 1',
  'live/cäm',
  'live/cam1?token=x',
  '',
  `a/${'x'.repeat(1024)}`,
];

const invalid: [name: string, subject: Subject, patch: Record<string, unknown>][] = [
  ['v 2', Subject.StreamPublished, { v: 2 }],
  ['v "1"', Subject.StreamPublished, { v: '1' }],
  ['empty nodeId', Subject.StreamPublished, { nodeId: '' }],
  ['129-char nodeId', Subject.StreamPublished, { nodeId: 'n'.repeat(129) }],
  ['negative ts', Subject.StreamPublished, { ts: -1 }],
  ['fractional ts', Subject.StreamPublished, { ts: 1.5 }],
  ['negative epoch', Subject.StreamUnpublished, { epoch: -1 }],
  ['empty sessionId', Subject.StreamUnpublished, { sessionId: '' }],
  ['unknown kind', Subject.SessionStarted, { kind: 'viewer' }],
  ['protocol with spaces', Subject.SessionStarted, { protocol: 'http flv' }],
  ['negative bytesOut', Subject.SessionStopped, { bytesOut: -1 }],
  ['fractional durationMs', Subject.SessionStopped, { durationMs: 0.5 }],
  ['NaN bytesIn', Subject.SessionStopped, { bytesIn: NaN }],
  ['empty fromNodeId', Subject.RelayStarted, { fromNodeId: '' }],
  ['numeric reason', Subject.RelayStopped, { reason: 3 }],
  ['unknown role', Subject.NodeHeartbeat, { role: 'master' }],
  ['draining "no"', Subject.NodeHeartbeat, { draining: 'no' }],
  ['negative players', Subject.NodeHeartbeat, { load: { ...load, players: -1 } }],
  ['fractional relays', Subject.NodeHeartbeat, { load: { ...load, relays: 1.5 } }],
  ['Infinity cpu', Subject.NodeHeartbeat, { load: { ...load, cpuPercent: Infinity } }],
  ['load without maxConnections', Subject.NodeHeartbeat, { load: { ...load, maxConnections: undefined } }],
  ['load with an extra field', Subject.NodeHeartbeat, { load: { ...load, memory: 1 } }],
  ['short instanceId', Subject.StreamPublished, { instanceId: 'abc' }],
  ['instanceId with a dot', Subject.RelayStarted, { instanceId: '0123456789.abcde' }],
  ['unknown protocol', Subject.NodeHeartbeat, { protocols: ['rtmp', 'webrtc'] }],
  ['duplicate protocol', Subject.NodeHeartbeat, { protocols: ['rtmp', 'rtmp'] }],
  ['address without port', Subject.NodeHeartbeat, { public: { rtmp: 'edge.example' } }],
  ['unknown address kind', Subject.NodeHeartbeat, { internal: { srt: '10.0.0.1:9000' } }],
  ['presence seq 0', Subject.NodePresence, { seq: 0 }],
  ['presence with a bad key', Subject.NodePresence, { streams: { nokey: null } }],
  [
    'presence entry missing a field',
    Subject.NodePresence,
    { streams: { 'live/a': { viewers: 1, relaying: true } } },
  ],
  ['presence entry as a number', Subject.NodePresence, { streams: { 'live/a': 3 } }],
  ...withKey.flatMap((s) =>
    badKeys.map((key): [string, Subject, Record<string, unknown>] => [
      `key ${JSON.stringify(key).slice(0, 30)}`,
      s,
      { key },
    ]),
  ),
];

for (const [name, subject, patch] of invalid) {
  test(`event schemas: ${subject} with ${name} fails`, () => {
    const r = checkEvent(subject, { ...full[subject], ...patch });
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.ok(r.problems.length > 0 && r.problems.every((p) => typeof p === 'string' && p.length > 0));
  });
}

test('event schemas: problems name the offending property', () => {
  const r = checkEvent(Subject.NodeHeartbeat, {
    ...full[Subject.NodeHeartbeat],
    extra: 1,
    load: { ...load, players: -1 },
  });
  assert.equal(r.ok, false);
  const text = r.ok ? '' : r.problems.join('\n');
  assert.match(text, /unknown property extra/);
  assert.match(text, /\/load\/players/);
});

const badRequests: [string, unknown][] = [
  ['unknown op', { op: 'reboot' }],
  ['no op', { sessionId: 'x' }],
  ['kick without sessionId', { op: 'kick' }],
  ['kick with a key', { op: 'kick', sessionId: 's', key: 'live/a' }],
  ['relay.start with a bad key', { op: 'relay.start', key: 'nope' }],
  ['relay.stop without key', { op: 'relay.stop' }],
  ['relay.pull.start without url', { op: 'relay.pull.start', key: 'live/a' }],
  [
    'relay.pull.start with a file url',
    {
      op: 'relay.pull.start',
      key: 'live/a',
      url: 'file:///etc/passwd',
      retryNum: 0,
      autoStopAfterNoViewersMs: -1,
      timeoutMs: 5000,
      rtspTransport: 'tcp',
    },
  ],
  ['relay.pull.stop with a bad key', { op: 'relay.pull.stop', key: '../x' }],
  ['stats with an extra field', { op: 'stats', all: true }],
  ['ping with an extra field', { op: 'ping', instanceId: 'x' }],
  ['not an object', 'stats'],
];
for (const [name, req] of badRequests) {
  test(`control request: ${name} fails`, () => assert.equal(checkControlRequest(req).ok, false));
}

const badReplies: [string, unknown][] = [
  ['no ok', { error: 'x' }],
  ['ok as string', { ok: 'true' }],
  ['numeric error', { ok: false, error: 5 }],
  ['extra field', { ok: true, extra: 1 }],
  ['unknown code', { ok: false, code: 'oops' }],
  ['array', [true]],
];
for (const [name, reply] of badReplies) {
  test(`control reply: ${name} fails`, () => assert.equal(checkControlReply(reply).ok, false));
}

test('encodeEvent throws InvalidEventError naming the problem; decodeEvent reports non-JSON', () => {
  const bad = { ...full[Subject.StreamPublished], key: 'nokey' };
  assert.throws(
    () => encodeEvent(Subject.StreamPublished, bad),
    (e: unknown) => {
      assert.ok(e instanceof InvalidEventError);
      assert.equal(e.subject, Subject.StreamPublished);
      assert.match(e.message, /\/key/);
      return true;
    },
  );
  const r = decodeEvent(Subject.StreamPublished, Buffer.from('{"v":1,'));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.problems[0]!, /not JSON/);
});

test('controlSubject: accepts host-like ids, refuses ids that are not a NATS subject', () => {
  assert.equal(controlSubject('edge-1'), 'sluice.v1.control.edge-1');
  assert.equal(controlSubject('node1.example.com'), 'sluice.v1.control.node1.example.com');
  for (const bad of ['', 'a b', 'a.*', '>', 'a..b', '.a', 'a.', 'n'.repeat(129), 'instance', 'instance.x']) {
    assert.throws(() => controlSubject(bad), { code: 'CONTROL_BAD_NODE_ID' }, bad);
  }
});

test('controlSubject: one process by its instance id, in a space no node id can take', () => {
  assert.equal(
    controlSubject({ instanceId: '0123456789abcdef' }),
    'sluice.v1.control.instance.0123456789abcdef',
  );
  for (const bad of ['', 'short', 'has.dot.inside', 'a*bcdefgh', 'x'.repeat(65)]) {
    assert.throws(() => controlSubject({ instanceId: bad }), { code: 'CONTROL_BAD_NODE_ID' }, bad);
  }
});

test('event schemas: keys with dots inside segments are fine, like libs/names/stream-key.ts', () => {
  for (const key of ['live/...', 'a.b/c..d', 'app/sub/name~1', 'A-Z_0/9']) {
    assert.ok(checkEvent(Subject.StreamPublished, { ...full[Subject.StreamPublished], key }).ok, key);
  }
});
