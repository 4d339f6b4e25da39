import type { SessionKind, StreamMediaInfo } from '../../libs/cluster/types.ts';
import type { RecordFileEnd, RecordFileInfo } from '../../libs/record/record-file.ts';

/** One media session as the cluster layer sees it. */
export interface SessionInfo {
  sessionId: string;
  kind: SessionKind;
  /** rtmp | rtmps | http-flv | https-flv | ws-flv | wss-flv | http-ts | https-ts | ws-ts | wss-ts | hls */
  protocol: string;
  key: string;
  remote: string;
}

export interface SessionEnd extends SessionInfo {
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  reason: string;
}

/** An RTMP `connect` command arrived (before any publish or play on the connection). */
export interface RtmpConnectInfo {
  sessionId: string;
  /** rtmp | rtmps */
  protocol: string;
  app: string;
  /** The client's tcUrl with every query value replaced (they may carry credentials). */
  tcUrl: string;
  flashVer: string;
  remote: string;
}

/** An HLS segment was opened (`open`: first frame in) or completed and listed (`close`). */
export interface HlsSegmentInfo {
  key: string;
  phase: 'open' | 'close';
  /** Segment file name (`<timeline>-<seq>.ts`). */
  name: string;
  /** Media sequence number in the playlist. */
  seq: number;
  /** 0 on open. */
  durationMs: number;
  /** The segment's path on disk (hls.store disk), else its URL path. */
  file: string;
  /** The live playlist's URL path (`/app/name.m3u8`). */
  playlist: string;
}

/** A pull of a stream from elsewhere into this node (an edge's relay, an RTSP or RTMP pull). */
export interface RelayPullInfo {
  key: string;
  /** The pull's session id on this node ('' when it has none). */
  sessionId: string;
  /** How it pulls: rtmp, rtsp... */
  protocol: string;
  /** Where from: a URL without query values, or `host:port`. */
  url: string;
  /** The origin node pulled from, in a cluster. */
  fromNodeId?: string;
  /** The ownership epoch the pull follows, in a cluster. */
  epoch?: number;
}

export interface RelayPullEnd extends RelayPullInfo {
  reason: string;
}

export interface PublishRequest {
  key: string;
  query: Record<string, string>;
  sessionId: string;
  remote: string;
  /** rtmp | rtmps | rtsp | rtsps (and the node's own rtsp-pull) */
  protocol: string;
}

export type PublishDecision =
  | {
      ok: true;
      /** Called once when this publish ends, however it ends. */
      onEnd?: () => void;
      /** The owner's timeline id for HLS segment names (the ownership epoch). */
      timeline?: string;
      /** The owner's first HLS segment number (from the epoch: numbers increase across owners). */
      firstSegment?: number;
    }
  | { ok: false; code: string; description: string };

export interface PlayRequest {
  key: string;
  query: Record<string, string>;
  /** Properties of the RTMP connect command object ({} for HTTP). */
  connectProps: Record<string, unknown>;
  sessionId: string;
  remote: string;
  protocol: string;
}

export type PlayDecision =
  | { ok: true; kind: SessionKind }
  /** `status`: the HTTP status of the refusal (403 unless given; 503 for capacity). */
  /** `code`: the RTMP status of the refusal (Play.StreamNotFound unless given). */
  | { ok: false; description: string; status?: number; code?: string };

/**
 * How a role (standalone, origin, edge) shapes the shared media node: who may publish
 * (cluster claims), who may play (relay credentials), and what it hears about sessions.
 * Every hook is optional; standalone needs none.
 */
export interface NodeHooks {
  /** May be async (a Redis claim). `kick` ends the publish later (claim lost). */
  authorizePublish?(req: PublishRequest, kick: (reason: string) => void): Promise<PublishDecision>;
  /** May be async (the auth callback): every caller awaits it and checks the viewer is still there. */
  authorizePlay?(req: PlayRequest): PlayDecision | Promise<PlayDecision>;
  /** Codecs and size of a publish, once its sequence headers arrived. */
  publishMediaInfo?(key: string, sessionId: string, media: StreamMediaInfo): void;
  sessionStarted?(s: SessionInfo): void;
  sessionStopped?(s: SessionEnd): void;
  /** A recording file was opened / closed (nodes with a `record` config). */
  recordStarted?(r: RecordFileInfo): void;
  recordStopped?(r: RecordFileEnd): void;
  /** An RTMP connect command (any connection, before publish or play). */
  rtmpConnect?(c: RtmpConnectInfo): void;
  /** An HLS segment opened or closed (nodes with HLS on). */
  hlsSegment?(s: HlsSegmentInfo): void;
  /** A pull into this node went live / ended (MediaNode.relayPullStarted/Stopped). */
  relayPullStarted?(r: RelayPullInfo): void;
  relayPullStopped?(r: RelayPullEnd): void;
}

/**
 * Things that watch a node's sessions without deciding anything (the HTTP API's session table,
 * webhooks). Any number may be added with MediaNode.observe; they run after the role's hooks
 * and must not throw (an exception is logged and swallowed).
 */
export type NodeObserver = Pick<
  NodeHooks,
  | 'sessionStarted'
  | 'sessionStopped'
  | 'publishMediaInfo'
  | 'recordStarted'
  | 'recordStopped'
  | 'rtmpConnect'
  | 'hlsSegment'
  | 'relayPullStarted'
  | 'relayPullStopped'
>;
