import { SCOPE_PROTOCOLS } from '../../../libs/auth/scope.ts';
import type { AuthAction } from '../../../libs/auth/signed-url.ts';

/** The `auth` section of the media roles (standalone, origin, edge). Every part is off by default. */
export interface AuthConfig {
  ip: ScopeConfig & { allow: string[]; deny: string[] };
  signed: ScopeConfig & { enabled: boolean; secrets: string[]; maxTtlS: number };
  /** lal's `simple_auth`, its key names kept so a lal config block can be pasted. */
  simpleAuth: {
    key: string;
    dangerous_lal_secret: string;
    pub_rtmp_enable: boolean;
    sub_rtmp_enable: boolean;
    sub_httpflv_enable: boolean;
    sub_httpts_enable: boolean;
    pub_rtsp_enable: boolean;
    sub_rtsp_enable: boolean;
    hls_m3u8_enable: boolean;
  };
  callback: {
    onPublish: string;
    onPlay: string;
    protocols: string[];
    timeoutMs: number;
    failOpen: boolean;
    cacheMs: number;
    cacheMaxEntries: number;
  };
}

interface ScopeConfig {
  actions: AuthAction[];
  protocols: string[];
}

const scopeProperties = {
  actions: {
    type: 'array',
    items: { enum: ['publish', 'play'] },
    uniqueItems: true,
    default: ['publish', 'play'],
    description: 'The actions this check applies to.',
  },
  protocols: {
    type: 'array',
    items: { enum: SCOPE_PROTOCOLS },
    uniqueItems: true,
    default: [],
    description:
      'The protocols this check applies to; empty = all. Groups: rtmp (rtmp, rtmps), rtsp (rtsp, rtsps), flv (http-flv, https-flv, ws-flv, wss-flv), ts (http-ts, https-ts, ws-ts, wss-ts), hls; or one of those labels.',
  },
} as const;

const flag = (what: string): object => ({ type: 'boolean', default: false, description: what });

const secretString = { type: 'string', minLength: 16, maxLength: 1024 } as const;

export const authProperty = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    "Publish and play authorization. All configured checks must pass, in this order: ip deny, ip allow, simpleAuth, signed, callback. Relay pulls between nodes and the node's own rtsp.pulls are never checked. Query values are never logged.",
  properties: {
    ip: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        deny: {
          type: 'array',
          items: { type: 'string', maxLength: 64 },
          default: [],
          description:
            'Client addresses refused (CIDR or single address, IPv4 or IPv6; IPv4 rules match IPv4-mapped IPv6 clients).',
        },
        allow: {
          type: 'array',
          items: { type: 'string', maxLength: 64 },
          default: [],
          description: 'When not empty, only these client addresses are accepted (after deny).',
        },
        ...scopeProperties,
      },
    },
    signed: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: flag(
          'Require a signed URL: ?expires=<unix seconds>&sign=<hex HMAC-SHA256(secret, "<action>\\n<app>\\n<name>\\n<expires>")>. `sluice sign` makes one.',
        ),
        secrets: {
          type: 'array',
          items: secretString,
          default: [],
          description:
            'Signing secrets (16+ characters); a signature made with any of them passes (rotation: add the new one, re-sign, then remove the old).',
        },
        maxTtlS: {
          type: 'integer',
          minimum: 0,
          default: 0,
          description: 'Refuse signatures expiring further than this in the future (0: no limit).',
        },
        ...scopeProperties,
      },
    },
    simpleAuth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "lal's simple_auth (same key names): ?lal_secret=md5(key + stream name). sub_httpflv_enable covers HTTP-FLV and WS-FLV, sub_httpts_enable HTTP-TS and WS-TS, the rtmp/rtsp ones their TLS forms too.",
      properties: {
        key: { type: 'string', maxLength: 1024, default: '' },
        dangerous_lal_secret: {
          type: 'string',
          maxLength: 1024,
          default: '',
          description: 'A fixed lal_secret that passes for every stream (as in lal); empty = none.',
        },
        pub_rtmp_enable: flag('Check RTMP(S) publishes.'),
        sub_rtmp_enable: flag('Check RTMP(S) plays.'),
        sub_httpflv_enable: flag('Check HTTP-FLV and WS-FLV plays.'),
        sub_httpts_enable: flag('Check HTTP-TS and WS-TS plays.'),
        pub_rtsp_enable: flag('Check RTSP(S) publishes.'),
        sub_rtsp_enable: flag('Check RTSP(S) plays.'),
        hls_m3u8_enable: flag(
          'Check HLS playlist requests (segments then need the session the playlist gave).',
        ),
      },
    },
    callback: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'SRS-style blocking HTTP callbacks: POST JSON {action, client_id, ip, app, stream, param, protocol, server_id, ...}; a 2xx answer with body {"code":0} or 0 allows.',
      properties: {
        onPublish: {
          type: 'string',
          maxLength: 2048,
          pattern: '^(https?://.+)?$',
          default: '',
          description: 'URL asked before a publish starts; empty = none.',
        },
        onPlay: {
          type: 'string',
          maxLength: 2048,
          pattern: '^(https?://.+)?$',
          default: '',
          description: 'URL asked before a play starts; empty = none.',
        },
        protocols: scopeProperties.protocols,
        timeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 60000,
          default: 3000,
          description: 'A callback without an answer in this time counts as failed.',
        },
        failOpen: flag('A failed callback (timeout, network error, 5xx) allows instead of refusing.'),
        cacheMs: {
          type: 'integer',
          minimum: 0,
          maximum: 3600000,
          default: 5000,
          description:
            'Answers (allow and refuse) are reused this long for the same action, stream, query, client address and protocol; 0 = no cache.',
        },
        cacheMaxEntries: {
          type: 'integer',
          minimum: 0,
          maximum: 1000000,
          default: 10000,
          description: 'Cached answers at most (the oldest go first).',
        },
      },
    },
  },
} as const;
