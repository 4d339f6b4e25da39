import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '../log/logger.ts';
import type { Counters } from '../metrics/counters.ts';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type ControlTarget,
  type EventMap,
} from './types.ts';

/**
 * The wire contract of the event bus (DESIGN.md "Cluster contract"): one JSON Schema per
 * subject plus the control request/reply, compiled once, and the encode/decode/dispatch steps
 * that NatsBus and MemoryBus share so both validate, count and log the same way.
 */

const require = createRequire(import.meta.url);
const load = (name: string): object => require(`./schemas/${name}.schema.json`) as object;

/** Schema file per subject: the subject without its `sluice.v1.` prefix. */
export const eventSchemas: { readonly [S in Subject]: object } = {
  [Subject.StreamPublished]: load('stream.published'),
  [Subject.StreamUnpublished]: load('stream.unpublished'),
  [Subject.SessionStarted]: load('session.started'),
  [Subject.SessionStopped]: load('session.stopped'),
  [Subject.RelayStarted]: load('relay.started'),
  [Subject.RelayStopped]: load('relay.stopped'),
  [Subject.NodeHeartbeat]: load('node.heartbeat'),
  [Subject.NodePresence]: load('node.presence'),
  [Subject.RecordStarted]: load('record.started'),
  [Subject.RecordStopped]: load('record.stopped'),
};
export const controlRequestSchema: object = load('control-request');
export const controlReplySchema: object = load('control-reply');

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);

const eventValidators = new Map<string, ValidateFunction>(
  Object.entries(eventSchemas).map(([subject, schema]) => [subject, ajv.compile(schema)]),
);
const requestValidator = ajv.compile<ControlRequest>(controlRequestSchema);
const replyValidator = ajv.compile<ControlReply>(controlReplySchema);

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

const SUBJECTS: ReadonlySet<string> = new Set(Object.values(Subject));
export const isSubject = (s: string): s is Subject => SUBJECTS.has(s);

export function checkEvent<S extends Subject>(subject: S, value: unknown): Checked<EventMap[S]> {
  const validate = eventValidators.get(subject);
  if (!validate) return { ok: false, problems: [`unknown subject ${subject}`] };
  return run(validate, value) as Checked<EventMap[S]>;
}

export const checkControlRequest = (value: unknown): Checked<ControlRequest> => run(requestValidator, value);
export const checkControlReply = (value: unknown): Checked<ControlReply> => run(replyValidator, value);

function run<T>(validate: ValidateFunction<T>, value: unknown): Checked<T> {
  if (validate(value)) return { ok: true, value };
  return { ok: false, problems: (validate.errors ?? []).map(describe) };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(root)';
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `${at}: unknown property ${String(p.additionalProperty)}`;
  if (e.keyword === 'enum') return `${at}: must be one of ${JSON.stringify(p.allowedValues)}`;
  if (e.keyword === 'const') return `${at}: must be ${JSON.stringify(p.allowedValue)}`;
  return `${at}: ${e.message ?? 'invalid'}`;
}

/** Parses a payload off the wire; a non-JSON payload is one problem, not an exception. */
export function parseJson(data: Uint8Array | string): Checked<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString()) };
  } catch (e) {
    return { ok: false, problems: [`not JSON: ${(e as Error).message}`] };
  }
}

export function decodeEvent<S extends Subject>(subject: S, data: Uint8Array | string): Checked<EventMap[S]> {
  const parsed = parseJson(data);
  return parsed.ok ? checkEvent(subject, parsed.value) : parsed;
}

/** A publisher handed the bus an event that does not match its subject's schema: a bug at the caller. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  readonly subject: string;
  readonly problems: string[];
  constructor(subject: string, problems: string[]) {
    super(`invalid ${subject} event: ${problems.join('; ')}`);
    this.subject = subject;
    this.problems = problems;
  }
}

/** Validates (throws InvalidEventError) and serializes an outgoing event. */
export function encodeEvent<S extends Subject>(subject: S, event: EventMap[S]): string {
  const checked = checkEvent(subject, event);
  if (!checked.ok) throw new InvalidEventError(subject, checked.problems);
  return JSON.stringify(event);
}

// ---- Control request/reply ----

export const ControlErrorCode = {
  Timeout: 'CONTROL_TIMEOUT',
  NoResponders: 'CONTROL_NO_RESPONDERS',
  NotConnected: 'CONTROL_NOT_CONNECTED',
  Closed: 'CONTROL_CLOSED',
  InvalidReply: 'CONTROL_INVALID_REPLY',
  BadNodeId: 'CONTROL_BAD_NODE_ID',
  Failed: 'CONTROL_FAILED',
} as const;
export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

/** Why requestControl rejected; `code` is stable, the message names the node. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly code: ControlErrorCode;
  readonly nodeId: string;
  constructor(code: ControlErrorCode, nodeId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.nodeId = nodeId;
  }
}

/** One NATS token or dot-separated tokens: no whitespace, no wildcards, no empty token. */
const NODE_ID_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const INSTANCE_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Node ids may not start with this: `sluice.v1.control.instance.<id>` addresses one process. */
export const INSTANCE_SUBJECT_TOKEN = 'instance';

/**
 * `sluice.v1.control.<nodeId>` (whichever process has that node id) or
 * `sluice.v1.control.instance.<instanceId>` (exactly one process); throws ControlError for an
 * id that cannot be a subject.
 */
export function controlSubject(target: ControlTarget): string {
  if (typeof target !== 'string') {
    if (!INSTANCE_ID.test(target.instanceId)) {
      throw new ControlError(
        ControlErrorCode.BadNodeId,
        target.instanceId,
        `instance id ${JSON.stringify(target.instanceId)} cannot be addressed`,
      );
    }
    return `sluice.v1.control.${INSTANCE_SUBJECT_TOKEN}.${target.instanceId}`;
  }
  const nodeId = target;
  if (
    nodeId.length > 128 ||
    !NODE_ID_SUBJECT.test(nodeId) ||
    nodeId === INSTANCE_SUBJECT_TOKEN ||
    nodeId.startsWith(`${INSTANCE_SUBJECT_TOKEN}.`)
  ) {
    throw new ControlError(
      ControlErrorCode.BadNodeId,
      nodeId,
      `node id ${JSON.stringify(nodeId)} cannot be addressed`,
    );
  }
  return `sluice.v1.control.${nodeId}`;
}

/** The id a ControlError names for a target. */
export const targetName = (t: ControlTarget): string =>
  typeof t === 'string' ? t : `instance ${t.instanceId}`;

export type ControlHandler = (req: ControlRequest) => Promise<ControlReply>;

/**
 * The serving side: decode and validate the request, run the handler, validate its reply.
 * Never rejects; every failure becomes `{ ok: false, error }` for the requester.
 */
export async function answerControl(
  subject: string,
  data: Uint8Array | string,
  handler: ControlHandler,
  report: BusReporter,
): Promise<string> {
  const parsed = parseJson(data);
  const req = parsed.ok ? checkControlRequest(parsed.value) : parsed;
  if (!req.ok) {
    report.invalid(subject, req.problems);
    return errorReply(`invalid control request: ${req.problems.join('; ')}`);
  }
  try {
    const reply = await handler(req.value);
    const checked = checkControlReply(reply);
    if (!checked.ok) throw new Error(`handler returned an invalid reply: ${checked.problems.join('; ')}`);
    return JSON.stringify(reply);
  } catch (e) {
    report.handlerFailed(subject, e);
    return errorReply(e instanceof Error ? e.message : String(e));
  }
}

/** Within the reply schema's 4096-character limit on `error`. */
const errorReply = (error: string): string => JSON.stringify({ ok: false, error: error.slice(0, 1000) });

/** The requesting side: a reply that is not valid JSON or not a ControlReply rejects. */
export function decodeControlReply(nodeId: string, data: Uint8Array | string): ControlReply {
  const parsed = parseJson(data);
  const reply = parsed.ok ? checkControlReply(parsed.value) : parsed;
  if (!reply.ok) {
    throw new ControlError(
      ControlErrorCode.InvalidReply,
      nodeId,
      `invalid control reply from ${nodeId}: ${reply.problems.join('; ')}`,
    );
  }
  return reply.value;
}

// ---- Inbound accounting ----

/** Warn at most this often per (kind, subject); every occurrence is still counted. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Counts and logs what the bus had to drop: `events_invalid` (bad payload in),
 * `events_handler_errors` (a subscriber threw), `events_dropped` (could not send), each
 * labelled by subject. Logs are rate-limited so a misbehaving peer cannot flood them.
 */
export class BusReporter {
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly lastWarn = new Map<string, { at: number; suppressed: number }>();

  constructor(log: Logger, counters: Counters) {
    this.log = log;
    this.counters = counters;
  }

  invalid(subject: string, problems: string[]): void {
    this.counters.inc('events_invalid', 1, { subject });
    this.warn(
      `invalid ${subject}`,
      { subject, problems: problems.slice(0, 5) },
      'dropped an invalid message',
    );
  }

  handlerFailed(subject: string, err: unknown): void {
    this.counters.inc('events_handler_errors', 1, { subject });
    this.warn(`handler ${subject}`, { subject, err }, 'event handler failed');
  }

  dropped(subject: string, why: string): void {
    this.counters.inc('events_dropped', 1, { subject });
    this.warn(`dropped ${subject}`, { subject, why }, 'event not sent');
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const last = this.lastWarn.get(key);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.lastWarn.set(key, { at: now, suppressed: 0 });
    this.log.warn({ ...fields, ...(last?.suppressed ? { suppressed: last.suppressed } : {}) }, msg);
  }
}

type AnyHandler = (event: unknown) => void;

/**
 * Decodes one inbound message once and hands it to each handler; the event is frozen
 * because every handler sees the same object. A throwing handler is counted and the rest
 * still run.
 */
export function dispatchEvent(
  subject: Subject,
  data: Uint8Array | string,
  handlers: readonly AnyHandler[],
  report: BusReporter,
): void {
  const decoded = decodeEvent(subject, data);
  if (!decoded.ok) {
    report.invalid(subject, decoded.problems);
    return;
  }
  const event = deepFreeze(decoded.value);
  for (const handler of handlers) {
    try {
      handler(event);
    } catch (e) {
      report.handlerFailed(subject, e);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
