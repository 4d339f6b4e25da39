import type { TestMediaSpec } from '../integration/helpers/media.ts';

/** Stream keys: `soak/s1..sN` for most viewers, `soak/hd` for the slow and stalled tenth. */
export const APP = 'soak';
export const HD_KEY = `${APP}/hd`;
export const regularKeys = (n: number): string[] => Array.from({ length: n }, (_, i) => `${APP}/s${i + 1}`);

/**
 * Low resolution and bitrate keep the 2-core machine's CPU for Sluice: publishers stream-copy a
 * file made once (ffmpeg testsrc2 + sine, H.264 + AAC), they do not encode live.
 */
export const REGULAR_MEDIA: TestMediaSpec = {
  durationS: 40,
  width: 320,
  height: 180,
  fps: 15,
  gop: 30,
  videoKbps: 150,
};

/**
 * The slow and stalled viewers watch a 2 Mbps stream. On loopback the kernel takes ~4 MB per
 * socket before a viewer's queue grows at all (measured: a paused HTTP-FLV viewer of a 220 kbps
 * stream was cut after ~160 s, 4.1 MB later), so at 2 Mbps a stall is seen in ~20 s and a
 * trickling reader reaches its byte budget within its lifetime.
 */
export const HD_MEDIA: TestMediaSpec = {
  durationS: 30,
  width: 640,
  height: 360,
  fps: 25,
  gop: 50,
  videoKbps: 2000,
};

/** Deep-merged over the cluster helper's edge config (its fast test timings stay). */
export const EDGE_OVERRIDES = {
  // Smaller than the 4 MiB default so a trickling reader of soak/hd is over it in ~10 s.
  viewer: { maxBufferedBytes: 1024 * 1024 },
} as const;

/** Shares of viewers by behaviour (the rest read normally). */
export const SHARES = { slowPause: 0.025, slowTrickle: 0.025, stall: 0.05, missing: 0.02 } as const;

/** Keys nobody publishes: a few, so the edges' owner lookups for them are shared. */
export const MISSING_KEYS = [`${APP}/missing1`, `${APP}/missing2`] as const;

export const VIEWER = {
  /** Normal and slow viewers stay this long (uniform), then leave. */
  lifeMinMs: 20_000,
  lifeMaxMs: 120_000,
  /** A viewer without a key frame this long after it started is an error. */
  firstMediaTimeoutMs: 10_000,
  /** A viewer of a missing key must be refused by then (the helper's waitPublisherMs 15 s + slack). */
  notFoundDeadlineMs: 25_000,
  /** A normal viewer without media this long while connected: delivery broke (the helper's waitPublisherMs). */
  maxGapMs: 15_000,
  /** Slow viewers: read 1-3 s, pause 3-12 s (under the 30 s stall timeout: never cut). */
  pauseReadMs: [1000, 3000],
  pauseMs: [3000, 12_000],
  /** Trickling viewers read one socket chunk (<= 64 KiB) every 0.4-1 s: below soak/hd's rate. */
  trickleEveryMs: [400, 1000],
  /**
   * Stalled viewers stop reading after their first media, and look again after this long: by
   * then the edge must have cut them (kernel buffers ~20 s at 2 Mbps + viewer.stallTimeoutMs 30 s).
   */
  stallHoldMs: 60_000,
  /** Once reading again, a cut viewer sees the end within this long (it drains ~4 MB first). */
  stallCloseWaitMs: 20_000,
  /** New viewers started per population tick at most (ramp). */
  maxStartsPerTick: 25,
  tickMs: 250,
} as const;

/** How long a client left hanging mid-handshake may stay open before that is an error. */
export const HANG_DEADLINE_MS = {
  // limits.handshakeTimeoutMs is 2 s in the cluster helper.
  rtmp: 8_000,
  // http headersTimeout 10 s, which Node checks every connectionsCheckingInterval (30 s).
  http: 45_000,
} as const;

export const THRESHOLDS = {
  /** RSS and heap: late-window median over the post-warm-up baseline median. */
  growth: 0.1,
  /** Runs shorter than this get a looser growth limit (a minute cannot tell warm-up from a leak). */
  growthFullRunMinutes: 10,
  shortRunGrowth: 0.5,
  loopDelayP99Ms: 50,
} as const;

/** Bounded waits at the end. */
export const DRAIN = {
  /** All viewers gone: counts must reach zero within this (edges stop relays after idleStopMs 2 s, heartbeats every 0.5 s). */
  sessionsZeroMs: 15_000,
  /** Publishers gone: streams and claims must be gone within this (releases are immediate). */
  streamsGoneMs: 15_000,
} as const;
