import { hostname } from 'node:os';
import { LISTEN_PATTERN } from '../../libs/config/listen.ts';
import type { LogFormat } from '../../libs/log/logger.ts';
import { ConfigError, schemaKeyProperty, type EnvOverride } from '../../libs/config/load.ts';
import { webhooksEnv, webhooksProperty } from './webhook-config.ts';
import { authProperty } from './auth/auth-config.ts';

/** Environment variables every role honours (the scheduler too). */
export const logEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'SLUICE_LOG_FORMAT', path: ['log', 'format'], kind: 'string' },
];

/** Environment variables every media role honours. */
export const mediaNodeEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_NODE_ID', path: ['nodeId'], kind: 'string' },
  ...logEnv,
  { env: 'SLUICE_RTMP_LISTEN', path: ['rtmp', 'listen'], kind: 'listen' },
  { env: 'SLUICE_RTMPS_LISTEN', path: ['rtmps', 'listen'], kind: 'listen' },
  { env: 'SLUICE_RTSP_LISTEN', path: ['rtsp', 'listen'], kind: 'listen' },
  { env: 'SLUICE_RTSPS_LISTEN', path: ['rtsps', 'listen'], kind: 'listen' },
  { env: 'SLUICE_HTTP_LISTEN', path: ['http', 'listen'], kind: 'listen' },
  { env: 'SLUICE_HTTPS_LISTEN', path: ['https', 'listen'], kind: 'listen' },
  { env: 'SLUICE_API_LISTEN', path: ['api', 'listen'], kind: 'listen' },
  { env: 'SLUICE_API_TOKEN', path: ['api', 'token'], kind: 'string' },
  { env: 'SLUICE_DRAIN_TIMEOUT_MS', path: ['drain', 'timeoutMs'], kind: 'integer' },
  ...webhooksEnv,
];

/**
 * JSON Schema pieces shared by the roles that serve media (standalone, origin, edge).
 * Each role's schema composes these; ajv validates once at startup with defaults filled in.
 */

export const listenDefinition = {
  type: 'string',
  pattern: LISTEN_PATTERN,
  description:
    'host:port, :port or [v6]:port; port 1-65535 (0: any free port). :port is every interface, IPv4 and IPv6 (dual stack); 0.0.0.0:port IPv4 only; [::]:port IPv6 (and IPv4-mapped on Linux).',
} as const;

/**
 * A node id works as a Redis key part and a NATS subject token run (no spaces, braces, * or >,
 * no empty token); `instance.…` is where single processes are addressed
 * (sluice.v1.control.instance.<id>).
 */
const NODE_ID_PATTERN = '^(?!instance(\\.|$))[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';

/** The configured node id, or the host name when none is; a host name unfit for one is a config error. */
export function resolveNodeId(configured: string): string {
  if (configured) return configured;
  const host = hostname();
  if (host.length <= 128 && new RegExp(NODE_ID_PATTERN).test(host)) return host;
  throw new ConfigError([
    `nodeId: the host name ${JSON.stringify(host)} cannot be a node id; set nodeId or SLUICE_NODE_ID`,
  ]);
}

/** `api.token` of every role with an API (the scheduler's too). */
export const apiTokenProperty = {
  anyOf: [
    { type: 'string', maxLength: 4096 },
    { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1024 }, maxItems: 16 },
  ],
  default: '',
  description:
    'Bearer token(s) the control endpoints require (a list, or a comma-separated string, while rotating); empty: control answers loopback clients only. Env SLUICE_API_TOKEN (comma-separated).',
} as const;

/** The `log` section of every role. */
export const logProperty = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    level: {
      enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
      description: 'Env SLUICE_LOG_LEVEL.',
    },
    format: {
      enum: ['auto', 'json', 'pretty'],
      default: 'auto',
      description:
        'auto: human-readable on a terminal when pino-pretty is installed (development), JSON lines otherwise. Env SLUICE_LOG_FORMAT.',
    },
  },
} as const;

export interface LogConfig {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  format: LogFormat;
}

/**
 * A TLS listener beside a plain one (`rtmps`, `https`): off by default; when on, its certificate
 * and key files are read and checked at startup (services/node/tls-files.ts).
 */
function tlsListenerProperty(listen: string, what: string, env: string) {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: `${what} Certificates are read once at startup (restart to load renewed ones).`,
    properties: {
      enabled: {
        type: 'boolean',
        default: false,
      },
      listen: {
        $ref: '#/definitions/listen',
        default: listen,
        description: `Env ${env}.`,
      },
      certFile: {
        type: 'string',
        default: '',
        description:
          'PEM certificate chain, the server certificate first, then its intermediates. Required when enabled.',
      },
      keyFile: {
        type: 'string',
        default: '',
        description: 'Unencrypted PEM private key of the certificate in certFile. Required when enabled.',
      },
    },
  } as const;
}

/** Users an RTSP action accepts. Passwords sit in the config file: keep it readable by the server only. */
const rtspCredentialsDefinition = {
  type: 'array',
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['username', 'password'],
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:\\s]+$' },
      password: { type: 'string', minLength: 1, maxLength: 256 },
    },
  },
} as const;

/**
 * `rtsp.pulls` (standalone and origin only: edges have no publishers): RTSP sources (cameras)
 * pulled into streams as if they published. Keys and URLs are checked again at startup
 * (stream-key rules, URL syntax, no key twice).
 */
const rtspPullsProperty = {
  type: 'array',
  maxItems: 1000,
  default: [],
  description:
    'RTSP sources pulled into streams and kept pulled (reconnecting with backoff 1-30 s). Credentials stay in the URL (user:password@, percent-encoded) and are never logged.',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'url'],
    properties: {
      key: {
        type: 'string',
        minLength: 3,
        maxLength: 512,
        description: 'Stream key app/name the source becomes.',
      },
      url: {
        type: 'string',
        pattern: '^[Rr][Tt][Ss][Pp][Ss]?://',
        maxLength: 4096,
        description: 'rtsp:// or rtsps:// URL of the source.',
      },
      transport: {
        enum: ['tcp', 'udp'],
        default: 'tcp',
        description: 'RTP over the RTSP connection (interleaved) or over UDP.',
      },
      timeoutMs: {
        type: 'integer',
        minimum: 1000,
        maximum: 120000,
        default: 10000,
        description: 'Each request must be answered, and RTP must keep coming, within this.',
      },
    },
  },
} as const;

export const mediaNodeProperties = {
  nodeId: {
    type: 'string',
    pattern: `(${NODE_ID_PATTERN})|^$`,
    maxLength: 128,
    default: '',
    description: 'Node identity in logs and events; empty = hostname. Env SLUICE_NODE_ID.',
  },
  log: logProperty,
  auth: authProperty,
  rtmp: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      enabled: {
        type: 'boolean',
        default: true,
      },
      listen: {
        $ref: '#/definitions/listen',
        default: ':1935',
        description: 'Env SLUICE_RTMP_LISTEN.',
      },
      outChunkSize: {
        type: 'integer',
        minimum: 128,
        maximum: 65536,
        default: 4096,
        description: 'Chunk size Sluice sends with.',
      },
      maxInChunkSize: {
        type: 'integer',
        minimum: 128,
        maximum: 16777215,
        default: 16777215,
        description: 'Largest Set Chunk Size accepted from a peer.',
      },
      maxMessageBytes: {
        type: 'integer',
        minimum: 65536,
        maximum: 16777215,
        default: 8388608,
        description: 'Largest RTMP message accepted (one video frame).',
      },
      nodeInputBufferBytes: {
        type: 'integer',
        minimum: 1048576,
        default: 268435456,
        description:
          'Node-wide budget for RTMP input held before it forms complete messages (partial messages, split headers, handshake packets), all connections together. A connection that needs more is closed (RTMP_NODE_INPUT_BUDGET).',
      },
      complexHandshake: {
        type: 'boolean',
        default: true,
        description: 'Answer digest (complex) handshakes with a digest; simple ones always work.',
      },
    },
  },
  rtmps: tlsListenerProperty(
    ':4935',
    'RTMPS: the RTMP listener (same sessions, limits and metrics) on TLS. Edges pull relays over plain RTMP.',
    'SLUICE_RTMPS_LISTEN',
  ),
  rtsp: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description:
      'RTSP (RFC 2326): publish with ANNOUNCE/RECORD, play with DESCRIBE/PLAY, over TCP (interleaved) or UDP; H.264, H.265 and AAC.',
    properties: {
      enabled: { type: 'boolean', default: true },
      listen: {
        $ref: '#/definitions/listen',
        default: ':5544',
        description: 'Env SLUICE_RTSP_LISTEN.',
      },
      sessionTimeoutS: {
        type: 'integer',
        minimum: 5,
        maximum: 3600,
        default: 60,
        description:
          'A session with no request, RTCP or media from its client for this long is closed (announced as Session: id;timeout=).',
      },
      udp: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: {
            type: 'boolean',
            default: true,
            description: 'Offer RTP over UDP; off: TCP (interleaved) only, SETUP asking for UDP gets 461.',
          },
          portMin: {
            type: 'integer',
            minimum: 1024,
            maximum: 65534,
            default: 30000,
            description:
              'First server port for RTP/RTCP over UDP (each track of a session takes an even/odd pair).',
          },
          portMax: {
            type: 'integer',
            minimum: 1025,
            maximum: 65535,
            default: 30999,
            description: 'Last server port for RTP/RTCP over UDP; open portMin-portMax in firewalls.',
          },
        },
      },
      auth: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description:
          'Credentials RTSP clients must present (an empty list: no credentials needed for that action).',
        properties: {
          realm: { type: 'string', minLength: 1, maxLength: 128, default: 'sluice' },
          methods: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { enum: ['digest', 'basic'] },
            default: ['digest', 'basic'],
            description:
              'Challenges offered, in order. Basic sends the password in clear: use it with RTSPS only.',
          },
          publish: { $ref: '#/definitions/rtspCredentials', default: [] },
          play: { $ref: '#/definitions/rtspCredentials', default: [] },
        },
      },
    },
  },
  rtsps: tlsListenerProperty(
    ':5322',
    'RTSPS: the RTSP listener on TLS (TCP interleaved; same sessions and limits).',
    'SLUICE_RTSPS_LISTEN',
  ),
  http: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      enabled: {
        type: 'boolean',
        default: true,
      },
      listen: {
        $ref: '#/definitions/listen',
        default: ':8080',
        description: 'HTTP-FLV and WebSocket-FLV. Env SLUICE_HTTP_LISTEN.',
      },
      cors: {
        type: 'boolean',
        default: true,
        description: 'Send Access-Control-Allow-Origin: * on media responses.',
      },
    },
  },
  https: tlsListenerProperty(
    ':4433',
    'HTTPS and WSS: everything the HTTP listener serves (FLV, TS, HLS and the WebSocket forms), on TLS; http.cors applies.',
    'SLUICE_HTTPS_LISTEN',
  ),
  api: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      enabled: {
        type: 'boolean',
        default: true,
      },
      listen: {
        $ref: '#/definitions/listen',
        default: ':8083',
        description:
          'Health, stats, metrics and the HTTP API (lal /api/stat, /api/ctrl; /api/v1). Env SLUICE_API_LISTEN.',
      },
      token: apiTokenProperty,
      protectStats: {
        type: 'boolean',
        default: false,
        description: 'With a token set, stats endpoints need it too (health and /metrics stay open).',
      },
    },
  },
  limits: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      maxConnections: {
        type: 'integer',
        minimum: 1,
        default: 10000,
        description:
          'Concurrent media connections (RTMP and RTMPS at accept, HTTP(S) and WS(S) viewers); more are closed.',
      },
      handshakeTimeoutMs: {
        type: 'integer',
        minimum: 100,
        default: 10000,
        description:
          'RTMP handshake must finish within this; on RTMPS and HTTPS the TLS handshake too (each stage gets this long).',
      },
      idleTimeoutMs: {
        type: 'integer',
        minimum: 100,
        default: 15000,
        description: 'A connection that neither publishes nor plays within this is closed.',
      },
      publishIdleTimeoutMs: {
        type: 'integer',
        minimum: 1000,
        default: 20000,
        description: 'A publisher that sends no audio, video or metadata for this long is closed.',
      },
      publishAuthTimeoutMs: {
        type: 'integer',
        minimum: 100,
        default: 10000,
        description:
          'A publish whose authorization (the cluster claim, a hook) has not answered within this is refused and its key freed.',
      },
    },
  },
  stream: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      gopCache: {
        type: 'boolean',
        default: true,
        description: 'Keep the frames since the last key frame so new viewers start at once.',
      },
      gopCacheMaxBytes: {
        type: 'integer',
        minimum: 0,
        default: 16777216,
        description: 'Above this the cached GOP is dropped until the next key frame.',
      },
      waitPublisherMs: {
        type: 'integer',
        minimum: 0,
        default: 30000,
        description:
          'How long a viewer waits for a missing publisher, and keeps waiting after its publisher leaves.',
      },
    },
  },
  metrics: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      perStream: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: {
            type: 'boolean',
            default: false,
            description:
              'Per-stream series on /metrics (label `stream`). Off by default: every stream adds series.',
          },
          maxStreams: {
            type: 'integer',
            minimum: 1,
            maximum: 10000,
            default: 100,
            description:
              'Streams with per-stream series at most (the first by key); the rest get none and sluice_stream_series_omitted counts them.',
          },
        },
      },
    },
  },
  webhooks: webhooksProperty,
  drain: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      timeoutMs: {
        type: 'integer',
        minimum: 0,
        maximum: 3600000,
        default: 30000,
        description:
          'After SIGTERM, how long viewers and publishers may continue before the node closes them (it exits sooner when all have left). Keep it under the pod terminationGracePeriodSeconds. Env SLUICE_DRAIN_TIMEOUT_MS.',
      },
    },
  },
  viewer: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      maxBufferedBytes: {
        type: 'integer',
        minimum: 65536,
        default: 4194304,
        description: 'Per-viewer byte budget; over it the viewer drops to the next key frame.',
      },
      stallTimeoutMs: {
        type: 'integer',
        minimum: 1000,
        // Progress is seen only when the kernel takes more bytes, and Linux wakes a writer only
        // once a large part of an autotuned send buffer (up to ~4 MB) is free: a viewer that
        // reads slowly but steadily can show no progress for ~20 s. 30 s keeps it (dropping
        // frames) while a viewer that stopped reading is still cut within a minute.
        default: 30000,
        description: 'A viewer whose queue does not drain at all for this long is disconnected.',
      },
      writeCoalesceMs: {
        type: 'integer',
        minimum: 0,
        maximum: 1000,
        default: 100,
        description:
          'Writes to each viewer are gathered and sent with one write, shared by the viewers of a format; a frame waits at most about this long in the node, the time to write every viewer included (the window closes early by what recent writes took, at most by half). 0 = flush every event-loop turn, for the lowest latency at about four times the CPU per viewer.',
      },
    },
  },
  hls: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description:
      'HLS at http://host/app/name.m3u8 (lal-compatible defaults). On an origin the segment cuts are decided here and carried to every edge, so all edges list the same segments with the same names.',
    properties: {
      enabled: {
        type: 'boolean',
        default: true,
        description: 'Serve HLS (and, on origins, mark segment cuts for edges).',
      },
      targetMs: {
        type: 'integer',
        minimum: 500,
        maximum: 60000,
        default: 3000,
        description:
          'A segment is cut at the first key frame once it is this long (lal fragment_duration_ms).',
      },
      maxSegmentMs: {
        type: 'integer',
        minimum: 0,
        maximum: 600000,
        default: 0,
        description:
          'Without a key frame a segment is cut at the next video frame once it is this long; 0 = 3 x targetMs.',
      },
      listSize: {
        type: 'integer',
        minimum: 2,
        maximum: 100,
        default: 6,
        description: 'Segments in the live playlist (lal fragment_num).',
      },
      maxSegmentBytes: {
        type: 'integer',
        minimum: 1048576,
        default: 67108864,
        description: 'A segment growing past this is cut at once (a bound on memory per stream).',
      },
      store: {
        enum: ['memory', 'disk'],
        default: 'memory',
        description: 'Where segments live: memory (bounded to the live window) or files under dir.',
      },
      dir: {
        type: 'string',
        minLength: 1,
        default: './hls',
        description:
          'Root directory for store disk: <dir>/<app>/<name>/ holds the segments, playlist.m3u8 and record.m3u8.',
      },
      cleanupMode: {
        enum: [0, 1, 2],
        default: 1,
        description:
          "Disk store (lal cleanup_mode): 0 never delete; 1 delete a stream's files keepAfterEndMs after it ends; 2 also delete segments as they leave the live window (after deleteThreshold more). The memory store always behaves as 2 and 1.",
      },
      deleteThreshold: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 6,
        description:
          'Cleanup mode 2: segments kept after leaving the live window, for players that read an older playlist.',
      },
      keepAfterEndMs: {
        type: 'integer',
        minimum: 0,
        default: 36000,
        description: 'After a stream ends its playlist (with EXT-X-ENDLIST) and segments stay this long.',
      },
      sessionTimeoutMs: {
        type: 'integer',
        minimum: 1000,
        default: 30000,
        description:
          'An HLS player that has not fetched its playlist for this long has left (its session ends).',
      },
      firstPlaylistWaitMs: {
        type: 'integer',
        minimum: 0,
        maximum: 120000,
        default: 15000,
        description:
          'A playlist request before the first segment is complete waits up to this long, then gets 404.',
      },
      maxSessions: {
        type: 'integer',
        minimum: 1,
        default: 10000,
        description:
          'HLS sessions on the node at most (their own budget, apart from limits.maxConnections); more get 503.',
      },
      maxSessionsPerClient: {
        type: 'integer',
        minimum: 1,
        default: 100,
        description:
          'HLS sessions per client address at most (players behind one NAT share it); more get 429.',
      },
    },
  },
} as const;

/** The `rtsp` section of roles that have publishers (standalone, origin): with `pulls`. */
export const publishingRtspProperty = {
  ...mediaNodeProperties.rtsp,
  properties: { ...mediaNodeProperties.rtsp.properties, pulls: rtspPullsProperty },
} as const;

/** A JSON Schema for a media role: the shared media properties plus the role's own. */
export function mediaRoleSchema(
  id: string,
  title: string,
  description: string,
  extra: Record<string, object> = {},
): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `${id}.schema.json`,
    title,
    description,
    type: 'object',
    additionalProperties: false,
    properties: { $schema: schemaKeyProperty, ...mediaNodeProperties, ...extra },
    definitions: { listen: listenDefinition, rtspCredentials: rtspCredentialsDefinition },
  };
}
