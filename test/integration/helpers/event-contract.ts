// The event contract as a consumer reads it, written out by hand for tests: independent of
// libs/cluster/schemas (which the senders use and which would agree with any sender bug they
// share). Each subject lists its fields and what a valid value is; anything else is a problem.

type Check = (v: unknown) => boolean;

const str =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length >= min && v.length <= max;
const int =
  (min: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const bool: Check = (v) => typeof v === 'boolean';
const oneOf =
  (...xs: string[]): Check =>
  (v) =>
    typeof v === 'string' && xs.includes(v);
const SEGMENT = /^[A-Za-z0-9_.~-]+$/;
const streamKey: Check = (v) =>
  typeof v === 'string' &&
  v.length <= 1024 &&
  v.split('/').length >= 2 &&
  v.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
const instanceId: Check = (v) => typeof v === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(v);
const hostPort: Check = (v) => typeof v === 'string' && /^\S+:\d{1,5}$/.test(v);
const protocol = oneOf('rtmp', 'flv', 'ws-flv', 'ts', 'hls', 'rtsp');

interface Shape {
  required: Record<string, Check>;
  optional?: Record<string, Check>;
}

const object =
  (shape: Shape): Check =>
  (v) =>
    problemsOf(v, shape).length === 0;

const addresses = object({
  required: {},
  optional: { rtmp: hostPort, http: hostPort, api: hostPort, rtsp: hostPort },
});
const load = object({
  required: {
    publishers: int(0),
    players: int(0),
    relays: int(0),
    bytesInPerSec: num,
    bytesOutPerSec: num,
    cpuPercent: num,
    maxConnections: int(0),
  },
});
const streamInfo = object({ required: { viewers: int(0), relaying: bool, publishing: bool } });

const base = { v: (x: unknown) => x === 1, nodeId: str(1, 128), instanceId, ts: int(0) };
const session = {
  ...base,
  sessionId: str(1, 128),
  kind: oneOf('publisher', 'player', 'relay'),
  protocol: (v: unknown) => typeof v === 'string' && /^[a-z0-9-]{1,32}$/.test(v),
  key: streamKey,
  remote: str(0, 256),
};

const record = {
  ...base,
  key: streamKey,
  format: oneOf('flv', 'ts', 'hls'),
  path: (v: unknown) => typeof v === 'string' && v.startsWith('/') && v.length <= 4096,
  sessionId: str(1, 128),
};

const shapes: Record<string, Shape> = {
  'sluice.v1.stream.published': {
    required: { ...base, key: streamKey, epoch: int(1), sessionId: str(1, 128) },
  },
  'sluice.v1.stream.unpublished': {
    required: { ...base, key: streamKey, epoch: int(1), sessionId: str(1, 128), reason: str(0, 1000) },
  },
  'sluice.v1.session.started': { required: session, optional: { epoch: int(1) } },
  'sluice.v1.session.stopped': {
    required: { ...session, durationMs: int(0), bytesIn: int(0), bytesOut: int(0), reason: str(0, 1000) },
    optional: { epoch: int(1) },
  },
  'sluice.v1.relay.started': {
    required: { ...base, key: streamKey, fromNodeId: str(1, 128), epoch: int(1) },
  },
  'sluice.v1.relay.stopped': {
    required: { ...base, key: streamKey, fromNodeId: str(1, 128), epoch: int(1), reason: str(0, 1000) },
  },
  'sluice.v1.node.heartbeat': {
    required: {
      ...base,
      role: oneOf('standalone', 'origin', 'edge'),
      internal: addresses,
      public: addresses,
      protocols: (v) => Array.isArray(v) && v.every(protocol) && new Set(v).size === v.length,
      load,
      draining: bool,
      startedAt: int(0),
      presenceSeq: int(0),
    },
  },
  'sluice.v1.node.presence': {
    required: {
      ...base,
      seq: int(1),
      streams: (v) =>
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.entries(v).every(([k, x]) => streamKey(k) && (x === null || streamInfo(x))),
    },
  },
  'sluice.v1.record.started': { required: record },
  'sluice.v1.record.stopped': {
    required: { ...record, bytes: int(0), durationMs: int(0), droppedFrames: int(0), reason: str(0, 1000) },
  },
};

function problemsOf(v: unknown, shape: Shape): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['not an object'];
  const rec = v as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, ok] of Object.entries(shape.required)) {
    if (!Object.hasOwn(rec, k)) out.push(`missing ${k}`);
    else if (!ok(rec[k])) out.push(`bad ${k}: ${JSON.stringify(rec[k])?.slice(0, 80)}`);
  }
  for (const [k, x] of Object.entries(rec)) {
    if (Object.hasOwn(shape.required, k)) continue;
    const ok = shape.optional && Object.hasOwn(shape.optional, k) ? shape.optional[k] : undefined;
    if (!ok) out.push(`unexpected ${k}`);
    else if (!ok(x)) out.push(`bad ${k}: ${JSON.stringify(x)?.slice(0, 80)}`);
  }
  return out;
}

/** What is wrong with an event on `subject` by the hand-written contract; [] when it is fine. */
export function contractProblems(subject: string, value: unknown): string[] {
  const shape = Object.hasOwn(shapes, subject) ? shapes[subject] : undefined;
  return shape ? problemsOf(value, shape) : [`unknown subject ${subject}`];
}

/** Subjects the contract knows (a new subject must be added here by hand, on purpose). */
export const contractSubjects = Object.keys(shapes);
