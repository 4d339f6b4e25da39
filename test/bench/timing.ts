// The schedule every bench mode shares: ramp steps, settling, sampling and the window's floor.

/** Players (and in-process publishers) start in batches this far apart. */
export const RAMP_STEP_MS = 100;
/** The window starts this long after the last player was started, so the ramp's bursts settle. */
export const SETTLE_MS = 2000;
export const SAMPLE_MS = 1000;
/** Publisher head start before the first player, so the GOP cache has a key frame. */
export const PUBLISH_LEAD_MS = 1000;
export const PLAYER_TIMEOUT_MS = 10_000;
export const MIN_WINDOW_MS = 3000;
/** How long HLS clients wait for the stream's first playlist before the ramp (first segment + margin). */
export const FIRST_PLAYLIST_WAIT_MS = 30_000;

/** CLOCK_MONOTONIC in µs: the clock V8 stamps --cpu-prof samples with on Linux. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
