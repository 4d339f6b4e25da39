import { HD_KEY, MISSING_KEYS, SHARES, VIEWER } from './config.ts';
import { HttpFlvViewer } from './http-flv-viewer.ts';
import type { Rng } from './rng.ts';
import type { Router } from './router.ts';
import { RtmpViewer } from './rtmp-viewer.ts';
import { ViewerStats } from './viewer-stats.ts';
import { Behaviour, Proto, type Viewer, type ViewerPlan, type ViewerResult } from './viewer.ts';
import { WsFlvViewer } from './ws-flv-viewer.ts';

const PROTOS = [Proto.Rtmp, Proto.Flv, Proto.WsFlv] as const;

/**
 * Keeps about `target` viewers connected: each lives a random time and leaves; every tick the
 * missing ones are started (at most VIEWER.maxStartsPerTick, which also paces the first ramp).
 * Slow and stalled viewers watch soak/hd, a few ask for keys nobody publishes, the rest spread
 * over the regular keys.
 */
export class Population {
  readonly stats = new ViewerStats();
  private readonly active = new Set<Viewer>();
  private pending = 0;
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;
  private readonly target: number;
  private readonly keys: string[];
  private readonly router: Router;
  private readonly rng: Rng;

  constructor(o: { target: number; keys: string[]; router: Router; rng: Rng }) {
    this.target = o.target;
    this.keys = o.keys;
    this.router = o.router;
    this.rng = o.rng;
  }

  /** Viewers connected or connecting now. */
  get size(): number {
    return this.active.size + this.pending;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), VIEWER.tickMs);
  }

  /** Stops starting viewers and makes every one leave now. */
  async stopAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Let routes in flight resolve into viewers, then stop those too.
    const end = Date.now() + 5000;
    while (this.pending > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    for (const v of [...this.active]) v.stop();
  }

  private tick(): void {
    const missing = Math.min(this.target - this.size, VIEWER.maxStartsPerTick);
    for (let i = 0; i < missing; i++) void this.startOne();
  }

  private behaviour(): Behaviour {
    let x = this.rng.next();
    for (const [b, share] of [
      [Behaviour.Stall, SHARES.stall],
      [Behaviour.SlowTrickle, SHARES.slowTrickle],
      [Behaviour.SlowPause, SHARES.slowPause],
      [Behaviour.Missing, SHARES.missing],
    ] as const) {
      if (x < share) return b;
      x -= share;
    }
    return Behaviour.Normal;
  }

  private async startOne(): Promise<void> {
    const id = this.nextId++;
    const behaviour = this.behaviour();
    const proto = this.rng.pick(PROTOS);
    const onHd = behaviour === Behaviour.Stall || behaviour === Behaviour.SlowTrickle;
    const key =
      behaviour === Behaviour.Missing
        ? this.rng.pick(MISSING_KEYS)
        : onHd
          ? HD_KEY
          : this.rng.pick(this.keys);
    const lifeMs = this.rng.between(VIEWER.lifeMinMs, VIEWER.lifeMaxMs);
    this.pending++;
    let route: { url: string; edge: string };
    try {
      route = await this.router.pick(key, proto, id % 2 === 0);
    } finally {
      this.pending--;
    }
    if (this.timer === null) return; // stopping
    const plan: ViewerPlan = { id, proto, behaviour, key, lifeMs, ...route };
    const onDone = (r: ViewerResult): void => {
      this.active.delete(v);
      this.stats.add(r);
    };
    const v =
      proto === Proto.Rtmp
        ? new RtmpViewer(plan, this.rng, onDone)
        : proto === Proto.Flv
          ? new HttpFlvViewer(plan, this.rng, onDone)
          : new WsFlvViewer(plan, this.rng, onDone);
    this.active.add(v);
    this.stats.started(plan);
    v.start();
  }
}
