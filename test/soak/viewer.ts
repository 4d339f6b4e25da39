import { VIEWER } from './config.ts';
import { MediaCheck } from './media-check.ts';
import type { Rng } from './rng.ts';

export const Proto = { Rtmp: 'rtmp', Flv: 'flv', WsFlv: 'ws-flv' } as const;
export type Proto = (typeof Proto)[keyof typeof Proto];

export const Behaviour = {
  Normal: 'normal',
  /** Reads a little, then pauses its socket for seconds, again and again. */
  SlowPause: 'slow-pause',
  /** Reads one socket chunk now and then: slower than the stream, so the edge must drop for it. */
  SlowTrickle: 'slow-trickle',
  /** Stops reading after its first key frame: the edge must cut it. */
  Stall: 'stall',
  /** Asks for a key nobody publishes (a typo): the edge must refuse it once its wait is over. */
  Missing: 'missing',
} as const;
export type Behaviour = (typeof Behaviour)[keyof typeof Behaviour];

/** How a viewer ended. `left`, `stall-cut` and `not-found` are good; `unverified` is a stalled viewer the run ended too soon for. */
export const Outcome = {
  Left: 'left',
  StallCut: 'stall-cut',
  NotFound: 'not-found',
  Unverified: 'unverified',
  Failed: 'failed',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Problems a viewer can report; each one is an error in the soak's verdict. */
export const Problem = {
  ConnectFailed: 'connect-failed',
  NoMedia: 'no-media',
  BadStart: 'bad-start',
  BadStream: 'bad-stream',
  TimestampRegression: 'timestamp-regression',
  MediaGap: 'media-gap',
  EndedEarly: 'ended-early',
  StallNotCut: 'stall-not-cut',
  /** A viewer of a missing key still waiting at VIEWER.notFoundDeadlineMs. */
  NotRefused: 'missing-key-not-refused',
  /** A viewer of a missing key got media. */
  UnexpectedMedia: 'missing-key-got-media',
} as const;
export type Problem = (typeof Problem)[keyof typeof Problem];

export interface ViewerPlan {
  id: number;
  proto: Proto;
  behaviour: Behaviour;
  key: string;
  url: string;
  edge: string;
  /** Normal and slow viewers leave after this. */
  lifeMs: number;
}

export interface ViewerResult {
  plan: ViewerPlan;
  outcome: Outcome;
  problems: { problem: Problem; detail: string }[];
  firstKeyFrameMs: number | null;
  maxGapMs: number;
  bytesIn: number;
  durationMs: number;
}

/**
 * One in-process viewer: the protocol subclass opens the connection and feeds media to
 * `media`; this class runs its life (leave on time, pause, trickle, stall) and judges it.
 * At most two timers per viewer.
 */
export abstract class Viewer {
  readonly plan: ViewerPlan;
  readonly media = new MediaCheck();
  protected bytes = 0;
  private readonly rng: Rng;
  private readonly onDone: (r: ViewerResult) => void;
  private readonly problems: ViewerResult['problems'] = [];
  private timer: NodeJS.Timeout | null = null;
  private lifeTimer: NodeJS.Timeout | null = null;
  private done = false;
  private paused = false;
  private trickling = false;
  /** Stalled viewer reading again: the end we wait for is the edge's cut. */
  private awaitingCut = false;

  constructor(plan: ViewerPlan, rng: Rng, onDone: (r: ViewerResult) => void) {
    this.plan = plan;
    this.rng = rng;
    this.onDone = onDone;
  }

  start(): void {
    if (this.plan.behaviour === Behaviour.Missing) {
      this.timer = setTimeout(
        () => this.fail(Problem.NotRefused, `still waiting after ${VIEWER.notFoundDeadlineMs} ms`),
        VIEWER.notFoundDeadlineMs,
      );
    } else this.timer = setTimeout(() => this.noMedia(), VIEWER.firstMediaTimeoutMs);
    if (this.plan.behaviour !== Behaviour.Stall && this.plan.behaviour !== Behaviour.Missing) {
      this.lifeTimer = setTimeout(() => this.leave(), this.plan.lifeMs);
    }
    try {
      this.open();
    } catch (e) {
      this.fail(Problem.ConnectFailed, (e as Error).message);
    }
  }

  /** End of the run: leave now (a stalled viewer not yet looked at is unverified). */
  stop(): void {
    if (this.done) return;
    if (this.plan.behaviour === Behaviour.Stall && !this.awaitingCut) this.finish(Outcome.Unverified, false);
    else this.leave();
  }

  get isDone(): boolean {
    return this.done;
  }

  // ---- for subclasses ----

  protected abstract open(): void;
  protected abstract pauseReading(): void;
  protected abstract resumeReading(): void;
  /** Close from our side; `polite` = a proper goodbye (deleteStream, WebSocket close) when the protocol has one. */
  protected abstract close(polite: boolean): void;

  /** Every chunk of bytes read from the socket. */
  protected onBytes(n: number): void {
    this.bytes += n;
    if (this.trickling) this.pauseReading();
  }

  /** An audio/video/script message or tag. */
  protected onTag(type: number, timestampMs: number, b0: number, b1: number): void {
    const started = this.media.firstKeyFrameAt !== 0;
    this.media.onTag(type, timestampMs, b0, b1);
    if (this.media.badStart !== null && !this.problems.some((p) => p.problem === Problem.BadStart))
      this.problem(Problem.BadStart, this.media.badStart);
    if (this.plan.behaviour === Behaviour.Missing && this.media.firstMediaAt !== 0)
      return this.fail(Problem.UnexpectedMedia, `type ${type} at ${timestampMs} ms`);
    if (!started && this.media.firstKeyFrameAt !== 0) this.onStarted();
  }

  /** The server said the stream does not exist (RTMP StreamNotFound, HTTP 404). */
  protected onNotFound(why: string): void {
    if (this.done) return;
    if (this.plan.behaviour === Behaviour.Missing) return this.finish(Outcome.NotFound, false);
    this.fail(Problem.ConnectFailed, why);
  }

  /** The server ended the connection (or it broke); `why` says how. */
  protected onEnded(why: string): void {
    if (this.done) return;
    // A stalled viewer cannot see the cut while it does not read, unless the socket breaks.
    if (this.awaitingCut || (this.plan.behaviour === Behaviour.Stall && this.media.firstKeyFrameAt !== 0))
      return this.finish(Outcome.StallCut, false);
    if (this.media.firstMediaAt === 0) return this.fail(Problem.ConnectFailed, why);
    this.fail(Problem.EndedEarly, why);
  }

  /** The stream is unusable (a parse error): record it and leave. */
  protected onBadStream(why: string): void {
    if (this.done) return;
    this.fail(Problem.BadStream, why);
  }

  // ---- life ----

  /** A valid start (first key frame): from here slow and stalled viewers misbehave. */
  private onStarted(): void {
    this.clearTimer();
    switch (this.plan.behaviour) {
      case Behaviour.SlowPause:
        this.schedulePause();
        return;
      case Behaviour.SlowTrickle:
        this.trickling = true;
        this.pauseReading();
        this.scheduleTrickle();
        return;
      case Behaviour.Stall:
        this.paused = true;
        this.pauseReading();
        this.timer = setTimeout(() => this.lookAfterStall(), VIEWER.stallHoldMs);
        return;
      default:
        return;
    }
  }

  private schedulePause(): void {
    const [readMin, readMax] = VIEWER.pauseReadMs;
    const [pauseMin, pauseMax] = VIEWER.pauseMs;
    // Reading now: read a while, then pause; paused now: pause a while, then read.
    const ms = this.paused ? this.rng.between(pauseMin, pauseMax) : this.rng.between(readMin, readMax);
    this.timer = setTimeout(() => {
      this.paused = !this.paused;
      if (this.paused) this.pauseReading();
      else this.resumeReading();
      this.schedulePause();
    }, ms);
  }

  private scheduleTrickle(): void {
    const [min, max] = VIEWER.trickleEveryMs;
    this.timer = setTimeout(
      () => {
        this.resumeReading();
        this.scheduleTrickle();
      },
      this.rng.between(min, max),
    );
  }

  private lookAfterStall(): void {
    this.awaitingCut = true;
    this.resumeReading();
    this.timer = setTimeout(
      () =>
        this.fail(
          Problem.StallNotCut,
          `still connected ${VIEWER.stallHoldMs + VIEWER.stallCloseWaitMs} ms after it stopped reading`,
        ),
      VIEWER.stallCloseWaitMs,
    );
  }

  private noMedia(): void {
    if (this.done || this.media.firstKeyFrameAt !== 0) return;
    this.fail(
      Problem.NoMedia,
      `no key frame within ${VIEWER.firstMediaTimeoutMs} ms (${this.media.mediaTags} audio/video tags)`,
    );
  }

  private leave(): void {
    if (this.done) return;
    if (this.plan.behaviour === Behaviour.Normal) {
      const gap = Math.max(this.media.maxGapMs, this.media.firstMediaAt ? this.media.silenceMs() : 0);
      if (gap > VIEWER.maxGapMs) this.problem(Problem.MediaGap, `${Math.round(gap)} ms without media`);
    }
    if (this.media.regression !== null) this.problem(Problem.TimestampRegression, this.media.regression);
    this.finish(this.problems.length === 0 ? Outcome.Left : Outcome.Failed, this.rng.chance(0.5));
  }

  private fail(problem: Problem, detail: string): void {
    if (this.done) return;
    this.problem(problem, detail);
    if (this.media.regression !== null && problem !== Problem.TimestampRegression)
      this.problem(Problem.TimestampRegression, this.media.regression);
    this.finish(Outcome.Failed, false);
  }

  private problem(problem: Problem, detail: string): void {
    this.problems.push({ problem, detail });
  }

  private finish(outcome: Outcome, polite: boolean): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    if (this.lifeTimer) clearTimeout(this.lifeTimer);
    try {
      this.close(polite);
    } catch {
      // already closed
    }
    this.onDone({
      plan: this.plan,
      outcome,
      problems: this.problems,
      firstKeyFrameMs: this.media.firstKeyFrameMs,
      maxGapMs: this.media.maxGapMs,
      bytesIn: this.bytes,
      durationMs: performance.now() - this.media.startedAt,
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
