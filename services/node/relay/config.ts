import { ConfigError } from '../../../libs/config/load.ts';
import { isStreamKey, validSegment } from '../../../libs/names/stream-key.ts';
import { parseRtmpUrl } from '../../../libs/rtmp/client-url.ts';
import { parseRtspUrl } from '../../../libs/rtsp/index.ts';
import { sourceFor } from './pull.ts';
import { redactRelayUrl } from './redact.ts';

/** One static pull (lal static_relay_pull, SRS ingest): keep `url` pulled into `key`. */
export interface StaticPullConfig {
  url: string;
  key: string;
  /** always: from startup; on-demand: when the first viewer of `key` asks, until the last has gone. */
  mode: 'always' | 'on-demand';
  retryNum: number;
  /** on-demand: stop this long after the last viewer left (always-on pulls never stop for that). */
  autoStopAfterNoViewersMs: number;
  timeoutMs: number;
  rtspTransport: 'tcp' | 'udp';
}

/**
 * One static push (lal relay_push, SRS forward). With `key`: that stream to `url`, a full
 * rtmp(s)://host/app/name URL. Without: every stream published here (of `app` when given) to
 * `<url>/<name>`, `url` a base rtmp(s)://host/app.
 */
export interface StaticPushConfig {
  url: string;
  key?: string;
  app?: string;
  timeoutMs: number;
}

/** The `relay` section of the roles that have publishers (standalone, origin). */
export interface RelayConfig {
  pulls: StaticPullConfig[];
  pushes: StaticPushConfig[];
}

const timeoutMs = {
  type: 'integer',
  minimum: 1000,
  maximum: 120000,
  default: 10000,
  description:
    'Connect and each request must complete, and media keep coming, within this (lal pull_timeout_ms).',
} as const;

export const relayProperty = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'Relay pulls (remote streams pulled into local keys, like a publish) and relay pushes (local streams pushed to other RTMP servers). Standalone and origin only. Credentials and stream keys in URLs are never logged.',
  properties: {
    pulls: {
      type: 'array',
      maxItems: 1000,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'key'],
        properties: {
          url: {
            type: 'string',
            maxLength: 4096,
            pattern: '^[A-Za-z]+://',
            description: 'rtmp://, rtmps://, http(s):// (FLV), rtsp:// or rtsps:// URL of the source.',
          },
          key: { type: 'string', minLength: 3, maxLength: 512, description: 'Local stream key app/name.' },
          mode: {
            enum: ['always', 'on-demand'],
            default: 'always',
            description:
              'always: pulled from startup, for ever. on-demand: pulled when the first viewer of the key asks on this node, stopped autoStopAfterNoViewersMs after the last one left.',
          },
          retryNum: {
            type: 'integer',
            minimum: -1,
            maximum: 1000000,
            default: -1,
            description:
              'Retries after failures in a row (lal pull_retry_num): -1 for ever, 0 none. Backoff 1 s doubling to 30 s.',
          },
          autoStopAfterNoViewersMs: {
            type: 'integer',
            minimum: 0,
            maximum: 86400000,
            default: 10000,
            description: 'on-demand only: stop this long after the last viewer left.',
          },
          timeoutMs,
          rtspTransport: { enum: ['tcp', 'udp'], default: 'tcp', description: 'RTSP sources only.' },
        },
      },
    },
    pushes: {
      type: 'array',
      maxItems: 1000,
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: {
            type: 'string',
            maxLength: 4096,
            pattern: '^[Rr][Tt][Mm][Pp][Ss]?://',
            description:
              'With key: the full target rtmp(s)://host/app/name. Without: a base rtmp(s)://host/app; each stream goes to <base>/<name>.',
          },
          key: { type: 'string', minLength: 3, maxLength: 512, description: 'Push only this stream key.' },
          app: {
            type: 'string',
            minLength: 1,
            maxLength: 512,
            description: 'Without key: push only the streams of this app.',
          },
          timeoutMs,
        },
      },
    },
  },
} as const;

/** Where a push entry sends `key` (app/name), or null when the entry does not take that key. */
export function pushTarget(p: StaticPushConfig, key: string): string | null {
  if (p.key !== undefined) return p.key === key ? p.url : null;
  const cut = key.lastIndexOf('/');
  if (p.app !== undefined && key.slice(0, cut) !== p.app) return null;
  const base = p.url.replace(/\/+$/, '');
  const q = base.indexOf('?');
  // A query on the base (a CDN token) stays at the end: rtmp://h/app/<name>?token
  return q < 0
    ? `${base}/${key.slice(cut + 1)}`
    : `${base.slice(0, q)}/${key.slice(cut + 1)}${base.slice(q)}`;
}

/** Checks a pull URL: a problem to report, or null. */
export function pullUrlProblem(url: string): string | null {
  const kind = sourceFor(url);
  try {
    if (kind === 'rtmp') parseRtmpUrl(url);
    else if (kind === 'rtsp') parseRtspUrl(url);
    else if (kind === 'flv') new URL(url);
    else return 'is not an rtmp(s)://, http(s):// (FLV) or rtsp(s):// URL';
  } catch (e) {
    return `does not parse (${(e as Error).message.replace(url, '…')})`;
  }
  return null;
}

/** Checks a push target URL (full, with the stream name): a problem, or null. */
export function pushUrlProblem(url: string): string | null {
  if (!/^rtmps?:\/\//i.test(url)) return 'is not an rtmp:// or rtmps:// URL';
  try {
    parseRtmpUrl(url);
  } catch {
    return 'must be rtmp(s)://host[:port]/app/name';
  }
  return null;
}

/**
 * What the schema cannot say: keys are stream keys and pulled once (also across rtsp.pulls),
 * URLs parse with a scheme the relay speaks. ConfigError naming every bad entry.
 */
export function checkRelayConfig(r: RelayConfig, alsoPulled: readonly string[] = []): void {
  const problems: string[] = [];
  const seen = new Set(alsoPulled);
  r.pulls.forEach((p, i) => {
    const at = `relay.pulls[${i}]`;
    if (!isStreamKey(p.key))
      problems.push(`${at}.key ${JSON.stringify(p.key)} is not a stream key (app/name)`);
    else if (seen.has(p.key)) problems.push(`${at}.key ${JSON.stringify(p.key)} is pulled twice`);
    seen.add(p.key);
    const bad = pullUrlProblem(p.url);
    if (bad) problems.push(`${at}.url ${JSON.stringify(redactRelayUrl(p.url))} ${bad}`);
  });
  r.pushes.forEach((p, i) => {
    const at = `relay.pushes[${i}]`;
    if (p.key !== undefined && !isStreamKey(p.key))
      problems.push(`${at}.key ${JSON.stringify(p.key)} is not a stream key (app/name)`);
    if (p.key !== undefined && p.app !== undefined) problems.push(`${at}: give key or app, not both`);
    if (p.app !== undefined && !p.app.split('/').every(validSegment))
      problems.push(`${at}.app ${JSON.stringify(p.app)} is not an app name`);
    const full = p.key !== undefined ? p.url : pushTarget(p, `${p.app ?? 'app'}/name`)!;
    const bad = pushUrlProblem(full);
    if (bad)
      problems.push(
        `${at}.url ${JSON.stringify(redactRelayUrl(p.url, { hideName: p.key !== undefined }))} ${p.key !== undefined ? bad : `${bad} (as a base: rtmp(s)://host[:port]/app)`}`,
      );
  });
  if (problems.length) throw new ConfigError(problems);
}
