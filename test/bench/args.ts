import { accessSync, constants, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mediaNodeProperties } from '../../services/node/config-schema.ts';
import { parseScenario, SCENARIO_USAGE, type Scenario } from './scenario-args.ts';

export const Proto = {
  Rtmp: 'rtmp',
  Flv: 'flv',
  WsFlv: 'ws-flv',
  Ts: 'ts',
  WsTs: 'ws-ts',
  Hls: 'hls',
  Rtsp: 'rtsp',
} as const;
export type Proto = (typeof Proto)[keyof typeof Proto];
const PROTOS: readonly string[] = Object.values(Proto);

/**
 * The server setups of `--streams` (muxing cost), each a separate server and window:
 * `rtmp` HLS off and one RTMP viewer per stream (no TS muxing at all); `rtmp+hls` the default
 * config, whose HLS segmenter runs for every stream with or without HLS players, and one RTMP
 * viewer; `ts+hls` the default config with one HTTP-TS viewer and one HLS client per stream;
 * `rtsp` (not run unless asked) HLS off and one RTSP viewer.
 */
export const Phase = { Rtmp: 'rtmp', RtmpHls: 'rtmp+hls', TsHls: 'ts+hls', Rtsp: 'rtsp' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
const PHASES: readonly string[] = Object.values(Phase);
const DEFAULT_PHASES: readonly Phase[] = [Phase.Rtmp, Phase.RtmpHls, Phase.TsHls];

/** How the `--streams` ffmpeg publishers push: RTMP (FLV) or RTSP over TCP (ANNOUNCE/RECORD). */
export const PublishProto = { Rtmp: 'rtmp', Rtsp: 'rtsp' } as const;
export type PublishProto = (typeof PublishProto)[keyof typeof PublishProto];
const PUBLISH_PROTOS: readonly string[] = Object.values(PublishProto);

/** Servers `--peer` runs beside Sluice, with the same publisher and players. */
export const Peer = { NginxRtmp: 'nginx-rtmp', Lal: 'lal' } as const;
export type Peer = (typeof Peer)[keyof typeof Peer];
const PEERS: readonly string[] = Object.values(Peer);
/** What each peer serves: nginx-rtmp has no HTTP-FLV, TS, HLS or RTSP; lal's HLS URLs differ from Sluice's. */
const PEER_PROTOS: Record<Peer, readonly Proto[]> = {
  [Peer.NginxRtmp]: [Proto.Rtmp],
  [Peer.Lal]: [Proto.Rtmp, Proto.Flv, Proto.Ts, Proto.Rtsp],
};

export interface BenchArgs {
  /** Players of a single run: the first of playerCounts. */
  players: number;
  /** `--players LIST`: one run per count, each on a fresh server. */
  playerCounts: number[];
  /** `--coalesce LIST`: one Sluice run per viewer.writeCoalesceMs; empty = the server's default. */
  coalesceMs: number[];
  /** Run this server too, before Sluice at each player count. */
  peer: Peer | null;
  lalBin: string | null;
  /** --pin true, --no-pin false, null (default) = pin when the host allows. */
  pin: boolean | null;
  proto: Proto;
  /** Muxing-cost mode: this many publishers, each with its own viewers; 0 = fan-out mode. */
  streams: number;
  phases: Phase[];
  /** With --streams: how ffmpeg publishes. */
  publishProto: PublishProto;
  /** Sockets of the HLS clients' shared keep-alive agent. */
  hlsSockets: number;
  durationS: number;
  bitrateKbps: number;
  /** Players started per ramp step (every RAMP_STEP_MS). */
  rampPerStep: number;
  /** Target server; null = spawn our own. */
  target: { rtmp: string; http: string; rtsp: string; api: string | null } | null;
  serverNodeArgs: string[];
  profile: boolean;
  json: boolean;
  app: string;
  /** --grid, --publishers or --relay (scenario-args.ts); null for fan-out and --streams. */
  scenario: Scenario | null;
}

export const MAX_PLAYERS = 5000;
export const MAX_DURATION_S = 300;
export const MAX_STREAMS = 50;
const MAX_COALESCE_MS = mediaNodeProperties.viewer.properties.writeCoalesceMs.maximum;

export const USAGE = `usage: npm run bench -- [options]

  --players N|LIST       players (default 100, max ${MAX_PLAYERS}); a list (1,200,1000) is one run per count,
                         each on a fresh server
  --proto P              how players pull: rtmp, flv (HTTP-FLV), ws-flv (WebSocket-FLV), ts (HTTP-TS),
                         ws-ts (WebSocket-TS), hls, rtsp (RTSP over TCP, interleaved) (default rtmp)
  --hls-sockets N        sockets of the HLS clients' shared keep-alive agent (default 128)
  --streams N            muxing cost instead of fan-out: N ffmpeg publishers (max ${MAX_STREAMS}), per phase
                         a fresh server and one viewer set per stream (see --phases)
  --phases LIST          for --streams, comma-separated, run in order (default ${PHASES.join(',')}):
                         rtmp = HLS off, 1 RTMP viewer; rtmp+hls = HLS on, 1 RTMP viewer;
                         ts+hls = HLS on, 1 HTTP-TS viewer + 1 HLS client; rtsp = HLS off, 1 RTSP viewer
  --publish-proto P      for --streams: rtmp (ffmpeg -f flv, default) or rtsp (ffmpeg -f rtsp -rtsp_transport tcp)
  --duration S           seconds from the first player to the end (default 20, max ${MAX_DURATION_S})
  --bitrate KBPS         total stream bitrate, video + 64 kbps AAC (default 500)
  --ramp N               players started per 100 ms (default 100)
  --rtmp URL --http URL  target a running server (rtmp://h:p, http://h:p) instead of spawning one
  --rtsp URL             its RTSP listener (rtsp://h:p), for --proto rtsp
  --api URL              its API (http://h:p) for RSS/CPU; optional with --rtmp
  --server HOST          shorthand for --rtmp rtmp://HOST:1935 --http http://HOST:8080 --api http://HOST:8083
                         --rtsp rtsp://HOST:5544
  --server-node-args S   extra node flags for the spawned server, e.g. "--cpu-prof --cpu-prof-dir=.bench/prof"
  --profile              = --server-node-args "--cpu-prof ..." and print a summary of the server's profile
  --coalesce LIST        one Sluice run per viewer.writeCoalesceMs value (e.g. 0,30), fresh server each;
                         default: one run with the server's default
  --peer P               also run P with the same publisher and players, before Sluice at each player
                         count: nginx-rtmp (/usr/sbin/nginx + libnginx-mod-rtmp, --proto rtmp only) or
                         lal (needs --lal-bin); the report gives Sluice's CPU as a ratio of the peer's
  --lal-bin PATH         the lalserver binary for --peer lal
  --pin, --no-pin        run the spawned server on the first CPU and the bench (and ffmpeg) on the others
                         (default: on when this process may use 2 CPUs or more; needs taskset)
  --app NAME             app of the bench stream (default bench)
  --json                 print the report as JSON
${SCENARIO_USAGE}`;

const int = (v: string | undefined, name: string, def: number, min: number, max: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number in ${min}..${max}, got ${v}`);
  return Math.round(n);
};

/** "0,30" -> [0, 30]: each a number in min..max, at least one, none twice. */
const intList = (v: string, name: string, min: number, max: number): number[] => {
  const list = v.split(',').map((x) => int(x.trim(), name, 0, min, max));
  if (new Set(list).size !== list.length) throw new Error(`--${name} lists ${v}: each value at most once`);
  return list;
};

/** More than one run, or a peer: the comparison report (compare.ts) instead of the single-run one. */
export const isComparison = (a: BenchArgs): boolean =>
  a.peer !== null || a.coalesceMs.length > 0 || a.playerCounts.length > 1;

/** Parses argv; throws Error with a message for the user on bad input. */
export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      players: { type: 'string' },
      proto: { type: 'string' },
      'hls-sockets': { type: 'string' },
      streams: { type: 'string' },
      phases: { type: 'string' },
      'publish-proto': { type: 'string' },
      duration: { type: 'string' },
      bitrate: { type: 'string' },
      ramp: { type: 'string' },
      rtmp: { type: 'string' },
      http: { type: 'string' },
      rtsp: { type: 'string' },
      api: { type: 'string' },
      server: { type: 'string' },
      'server-node-args': { type: 'string' },
      profile: { type: 'boolean' },
      coalesce: { type: 'string' },
      peer: { type: 'string' },
      'lal-bin': { type: 'string' },
      pin: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      app: { type: 'string' },
      json: { type: 'boolean' },
      grid: { type: 'string' },
      publishers: { type: 'string' },
      'viewers-per-stream': { type: 'string' },
      relay: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const proto = (values.proto ?? Proto.Rtmp) as Proto;
  if (!PROTOS.includes(proto)) throw new Error(`--proto must be one of ${PROTOS.join(', ')}, got ${proto}`);
  const phases = (values.phases ?? DEFAULT_PHASES.join(',')).split(',').filter((x) => x !== '') as Phase[];
  for (const ph of phases)
    if (!PHASES.includes(ph)) throw new Error(`--phases takes ${PHASES.join(', ')}, got ${ph}`);
  if (phases.length === 0 || new Set(phases).size !== phases.length)
    throw new Error('--phases needs at least one phase, each at most once');
  const streams = int(values.streams, 'streams', 0, 1, MAX_STREAMS);
  if (streams > 0 && (values.players !== undefined || values.proto !== undefined))
    throw new Error('--streams sets its own viewers: drop --players and --proto');
  if (streams === 0 && values.phases !== undefined) throw new Error('--phases only applies to --streams');
  const publishProto = (values['publish-proto'] ?? PublishProto.Rtmp) as PublishProto;
  if (!PUBLISH_PROTOS.includes(publishProto))
    throw new Error(`--publish-proto must be one of ${PUBLISH_PROTOS.join(', ')}, got ${publishProto}`);
  if (streams === 0 && values['publish-proto'] !== undefined)
    throw new Error('--publish-proto only applies to --streams (fan-out mode publishes over RTMP)');
  let target: BenchArgs['target'] = null;
  if (values.server !== undefined) {
    const h = values.server;
    target = {
      rtmp: `rtmp://${h}:1935`,
      http: `http://${h}:8080`,
      rtsp: `rtsp://${h}:5544`,
      api: `http://${h}:8083`,
    };
  }
  if (
    values.rtmp !== undefined ||
    values.http !== undefined ||
    values.rtsp !== undefined ||
    values.api !== undefined
  ) {
    target = {
      rtmp: values.rtmp ?? target?.rtmp ?? '',
      http: values.http ?? target?.http ?? '',
      rtsp: values.rtsp ?? target?.rtsp ?? '',
      api: values.api ?? target?.api ?? null,
    };
    if (!target.rtmp)
      throw new Error('--rtmp is required when targeting a running server (the publisher uses it)');
    if (proto === Proto.Rtsp) {
      if (!target.rtsp) throw new Error('--rtsp is required for --proto rtsp');
    } else if (proto !== Proto.Rtmp && !target.http) {
      throw new Error(`--http is required for --proto ${proto}`);
    }
  }
  if (target && streams > 0)
    throw new Error('--streams spawns its own servers (one per phase): drop the target');
  const profile = values.profile ?? false;
  const nodeArgs = (values['server-node-args'] ?? '').split(/\s+/).filter((s) => s !== '');
  if (profile && !nodeArgs.some((a) => a.startsWith('--cpu-prof'))) nodeArgs.push('--cpu-prof');
  if (target && nodeArgs.length > 0)
    throw new Error('--server-node-args/--profile only apply to a spawned server');
  const scenario = parseScenario({ ...values, targeted: target !== null });
  const app = values.app ?? 'bench';
  if (!/^[A-Za-z0-9_.~-]+$/.test(app)) throw new Error(`--app must be one safe path segment, got ${app}`);
  const playerCounts = intList(values.players ?? '100', 'players', 1, MAX_PLAYERS);
  const coalesceMs =
    values.coalesce === undefined ? [] : intList(values.coalesce, 'coalesce', 0, MAX_COALESCE_MS);
  const peer = parsePeer(values.peer, values['lal-bin'], proto);
  if (streams > 0 && (peer !== null || coalesceMs.length > 0))
    throw new Error('--peer and --coalesce compare fan-out runs: not with --streams');
  if (target && (peer !== null || coalesceMs.length > 0 || playerCounts.length > 1))
    throw new Error('--peer, --coalesce and a --players list spawn a fresh server per run: drop the target');
  if (values.pin && values['no-pin']) throw new Error('--pin and --no-pin: choose one');
  const pin = values.pin ? true : values['no-pin'] ? false : null;
  if (target && pin === true) throw new Error('--pin applies to a spawned server: drop the target');
  return {
    players: playerCounts[0]!,
    playerCounts,
    coalesceMs,
    peer,
    lalBin: values['lal-bin'] ?? null,
    pin: target ? false : pin,
    proto,
    streams,
    phases,
    publishProto,
    hlsSockets: int(values['hls-sockets'], 'hls-sockets', 128, 1, MAX_PLAYERS),
    durationS: int(values.duration, 'duration', 20, 5, MAX_DURATION_S),
    bitrateKbps: int(values.bitrate, 'bitrate', 500, 100, 50_000),
    rampPerStep: int(values.ramp, 'ramp', 100, 1, MAX_PLAYERS),
    target,
    serverNodeArgs: nodeArgs,
    profile,
    json: values.json ?? false,
    app,
    scenario,
  };
}

function parsePeer(v: string | undefined, lalBin: string | undefined, proto: Proto): Peer | null {
  if (v === undefined) {
    if (lalBin !== undefined) throw new Error('--lal-bin only applies to --peer lal');
    return null;
  }
  if (!PEERS.includes(v)) throw new Error(`--peer must be one of ${PEERS.join(', ')}, got ${v}`);
  const peer = v as Peer;
  if (!PEER_PROTOS[peer].includes(proto))
    throw new Error(
      peer === Peer.NginxRtmp
        ? `--peer nginx-rtmp serves RTMP only (no HTTP-FLV, TS, HLS or RTSP): use --proto rtmp, not ${proto}`
        : `--peer ${peer} is compared with --proto ${PEER_PROTOS[peer].join(', ')}, not ${proto}`,
    );
  if (peer === Peer.Lal) {
    if (lalBin === undefined) throw new Error('--peer lal needs --lal-bin PATH (a lalserver binary)');
    try {
      accessSync(lalBin, constants.X_OK);
      if (!statSync(lalBin).isFile()) throw new Error('not a file');
    } catch {
      throw new Error(`--lal-bin ${lalBin} is not an executable file`);
    }
  } else if (lalBin !== undefined) {
    throw new Error('--lal-bin only applies to --peer lal');
  }
  return peer;
}
