import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { EventRecorder } from '../integration/helpers/cluster.ts';

type LogRecord = Record<string, unknown>;

export interface LogTally {
  /** `<process> <msg>` -> count, for warn lines. */
  warn: Record<string, number>;
  /** The first few lines of each warn kind, whole. */
  warnExamples: Record<string, LogRecord[]>;
  /** `<process> <msg>` -> count, for error and fatal lines: each is an error of the run. */
  error: Record<string, number>;
  errorExamples: LogRecord[];
  /** Events the nodes refused to send as invalid against their schema. */
  unsentEvents: number;
  events: { total: number; invalid: number; bySubject: Record<string, number>; invalidExamples: unknown[] };
}

const WARN = 40;
const ERROR = 50;
const EXAMPLES = 10;
const WARN_EXAMPLES = 3;

/**
 * Tallies the processes' log lines and the NATS events as they come, and forgets them: the
 * cluster helper keeps every line and event in memory, which a 30-minute run cannot afford.
 * With a directory, every line also goes to `<dir>/<process>.log` for a post-mortem.
 */
export class LogWatch {
  readonly tally: LogTally = {
    warn: {},
    warnExamples: {},
    error: {},
    errorExamples: [],
    unsentEvents: 0,
    events: { total: 0, invalid: 0, bySubject: {}, invalidExamples: [] },
  };
  private readonly sources: { name: string; logs: LogRecord[] }[];
  private readonly events: EventRecorder;
  private readonly files = new Map<string, WriteStream>();

  constructor(sources: { name: string; logs: LogRecord[] }[], events: EventRecorder, dir: string | null) {
    this.sources = sources;
    this.events = events;
    if (dir !== null) {
      mkdirSync(dir, { recursive: true });
      for (const s of sources) this.files.set(s.name, createWriteStream(join(dir, `${s.name}.log`)));
    }
  }

  close(): void {
    for (const f of this.files.values()) f.end();
  }

  get errorCount(): number {
    let n = this.tally.unsentEvents + this.tally.events.invalid;
    for (const v of Object.values(this.tally.error)) n += v;
    return n;
  }

  drain(): void {
    for (const src of this.sources) {
      const file = this.files.get(src.name);
      for (const rec of src.logs.splice(0)) {
        file?.write(`${JSON.stringify(rec)}\n`);
        const level = typeof rec.level === 'number' ? rec.level : 0;
        const msg = typeof rec.msg === 'string' ? rec.msg : '';
        if (msg === 'event not published (invalid against its schema)') this.tally.unsentEvents++;
        if (level >= ERROR) {
          bump(this.tally.error, `${src.name} ${msg}`);
          if (this.tally.errorExamples.length < EXAMPLES)
            this.tally.errorExamples.push({ process: src.name, ...rec });
        } else if (level >= WARN) {
          const kind = `${src.name} ${msg}`;
          bump(this.tally.warn, kind);
          const ex = (this.tally.warnExamples[kind] ??= []);
          if (ex.length < WARN_EXAMPLES) ex.push(rec);
        }
      }
    }
    const ev = this.tally.events;
    for (const e of this.events.all.splice(0)) {
      ev.total++;
      bump(ev.bySubject, e.subject);
      if (e.problems.length > 0) {
        ev.invalid++;
        if (ev.invalidExamples.length < EXAMPLES)
          ev.invalidExamples.push({ subject: e.subject, problems: e.problems });
      }
    }
  }
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}
