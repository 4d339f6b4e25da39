import type { LatencyProbe } from './latency-probe.ts';
import type { BenchMedia } from './media.ts';
import { BenchPublisher } from './publisher.ts';
import { sleep } from './timing.ts';

/**
 * Pacing tick of the group. A tag goes out within one tick of its due time (plus the event
 * loop's delay), far below the 500 ms that counts as late; a shorter tick only adds wake-ups.
 */
const TICK_MS = 5;
/** Publishers connected per step, and the step: each connect is a handshake for the server. */
const CONNECTS_PER_STEP = 25;
const STEP_MS = 100;

/**
 * Many in-process BenchPublishers of the same file under one timer: every tick each publisher
 * sends what is due on its own clock (they start a few ms apart, so their key frames do not
 * line up). 300 ffmpeg processes would take the host; 300 sockets and one timer do not.
 * With a latency probe each publisher stamps its own send-time table (`publisher.latency`):
 * they send the same timestamps at different times, and one tick serves them one after another.
 */
export class PublisherGroup {
  readonly publishers: BenchPublisher[] = [];
  /** Those publishing: the timer must not pump one that is still connecting. */
  private readonly live: BenchPublisher[] = [];
  private readonly media: BenchMedia;
  private readonly latency: LatencyProbe | null;
  private timer: NodeJS.Timeout | null = null;

  constructor(media: BenchMedia, latency: LatencyProbe | null = null) {
    this.media = media;
    this.latency = latency;
  }

  /**
   * Publishes one stream per URL, CONNECTS_PER_STEP every STEP_MS; resolves when all publish
   * (NetStream.Publish.Start), rejects with the first refusal.
   */
  async start(urls: string[]): Promise<void> {
    this.timer ??= setInterval(() => {
      for (const p of this.live) p.pump();
    }, TICK_MS);
    const started: Promise<void>[] = [];
    // Caught at once: a refusal while later batches are still connecting must not go unhandled.
    const failures: Error[] = [];
    for (let i = 0; i < urls.length; i += CONNECTS_PER_STEP) {
      if (i > 0) await sleep(STEP_MS);
      for (const url of urls.slice(i, i + CONNECTS_PER_STEP)) {
        const p = new BenchPublisher(this.media, this.latency?.stream() ?? null);
        p.externalPacing = true;
        this.publishers.push(p);
        started.push(
          p.start(url).then(
            () => void this.live.push(p),
            (e: unknown) => {
              failures.push(new Error(`publish of ${url} failed: ${(e as Error).message}`, { cause: e }));
            },
          ),
        );
      }
    }
    await Promise.all(started);
    if (failures.length > 0) throw failures[0]!;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const p of this.publishers) p.stop();
  }
}
