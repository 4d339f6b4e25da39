import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * The one root logger. Components take `root.child({ component })`, sessions
 * `child({ session })`. Client-supplied strings go under their own keys; secrets never.
 */
export function createRootLogger(opts: { level?: LevelWithSilent; nodeId?: string } = {}): Logger {
  return pino({
    level: opts.level ?? 'info',
    base: opts.nodeId ? { node: opts.nodeId } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secret', '*.secret', 'token', '*.token', 'password', '*.password'],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything: for unit tests and benchmarks of libs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
