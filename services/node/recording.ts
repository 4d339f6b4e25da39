import type { Logger } from 'pino';
import type { Counters } from '../../libs/metrics/counters.ts';
import { FlvRecorder } from '../../libs/record/flv-recorder.ts';
import { TsRecorder } from '../../libs/record/ts-recorder.ts';
import type {
  RecordContext,
  RecordFile,
  RecordFileEnd,
  RecordFileInfo,
} from '../../libs/record/record-file.ts';
import type { Stream } from '../../libs/stream/index.ts';
import type { RecordConfig } from './record-config.ts';

/** At shutdown, recordings get this long to reach the disk before the process goes on closing. */
const STOP_FLUSH_MS = 5000;

export interface RecordingDeps {
  log: Logger;
  counters: Counters;
  started?(info: RecordFileInfo): void;
  stopped?(end: RecordFileEnd): void;
}

/**
 * Recording on a node with publishers (standalone, origin): every stream of the hub gets its
 * recorders as taps when it is created (`attach`, from hub.onStreamCreated). Built only from a `record` config section, which edges
 * do not have: a relay is not a local publisher and is never recorded.
 */
export class Recording {
  private readonly cfg: RecordConfig;
  private readonly ctx: RecordContext;
  private readonly flv = new Set<FlvRecorder>();
  /** TS recorders by key: while their stream lives, and for ts.resumeWithinMs after it is gone. */
  private readonly ts = new Map<string, { rec: TsRecorder; timer: NodeJS.Timeout | null }>();
  private stopping = false;

  constructor(cfg: RecordConfig, deps: RecordingDeps) {
    this.cfg = cfg;
    const log = deps.log.child({ component: 'record' });
    this.ctx = {
      log,
      counters: deps.counters,
      maxQueueBytes: cfg.maxQueueBytes,
      open: new Set<RecordFile>(),
      opened: (info) => deps.started?.(info),
      closed: (end) => deps.stopped?.(end),
    };
    log.info(
      {
        flv: cfg.flv.enabled ? cfg.flv.dir : false,
        ts: cfg.ts.enabled ? cfg.ts.dir : false,
        maxQueueBytes: cfg.maxQueueBytes,
      },
      'recording enabled',
    );
  }

  /** Recording files open now. */
  get openFiles(): number {
    return this.ctx.open.size;
  }

  /** Bytes waiting for the disk, all open files together. */
  get queuedBytes(): number {
    let n = 0;
    for (const f of this.ctx.open) n += f.queuedBytes;
    return n;
  }

  /** Adds the stream's recorders as taps (called for every new hub stream, before any write). */
  attach(s: Stream): void {
    if (this.stopping) return;
    if (this.cfg.flv.enabled) {
      const r = new FlvRecorder({ key: s.key, dir: this.cfg.flv.dir, ctx: this.ctx });
      this.flv.add(r);
      s.addTap({
        onPublisherStart: (id) => r.onPublisherStart(id),
        onMessage: (m) => r.onMessage(m),
        onPublisherStop: () => r.onPublisherStop(),
        close: () => {
          this.flv.delete(r);
          r.close();
        },
      });
    }
    if (this.cfg.ts.enabled) this.attachTs(s);
  }

  /**
   * The stream's TS recorder: the one its key had if the previous stream of that key ended within
   * ts.resumeWithinMs (a publisher reconnecting while no viewer held the stream), else a new one.
   */
  private attachTs(s: Stream): void {
    const key = s.key;
    let entry = this.ts.get(key);
    if (entry?.timer) {
      clearTimeout(entry.timer);
      entry.timer = null;
    }
    if (!entry) {
      entry = { rec: new TsRecorder({ key, dir: this.cfg.ts.dir, ctx: this.ctx }), timer: null };
      this.ts.set(key, entry);
    }
    const e = entry;
    const r = e.rec;
    s.addTap({
      onPublisherStart: (id) => r.onPublisherStart(id),
      onMessage: (m) => r.onMessage(m),
      close: () => {
        if (this.stopping || this.ts.get(key) !== e) return;
        const end = (): void => {
          this.ts.delete(key);
          void r.stop('stream ended');
        };
        const wait = this.cfg.ts.resumeWithinMs;
        if (wait === 0) return end();
        e.timer = setTimeout(end, wait);
        e.timer.unref();
      },
    });
  }

  /** Closes every recording ('shutdown') and waits (bounded) until their files are closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.flv) void r.stop('shutdown');
    this.flv.clear();
    for (const e of this.ts.values()) {
      if (e.timer) clearTimeout(e.timer);
      void e.rec.stop('shutdown');
    }
    this.ts.clear();
    const closing = [...this.ctx.open].map((f) => f.close('shutdown'));
    if (closing.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_FLUSH_MS)));
    const done = await Promise.race([Promise.all(closing).then(() => true), timeout]);
    clearTimeout(timer);
    if (!done) {
      this.ctx.log.warn(
        { files: this.ctx.open.size, waitedMs: STOP_FLUSH_MS },
        'recordings not closed in time at shutdown',
      );
    }
  }
}
