import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** `auto`: human-readable on a terminal when pino-pretty is installed, JSON lines otherwise. */
export const LogFormat = { Auto: 'auto', Json: 'json', Pretty: 'pretty' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

/**
 * The one root logger. Components take `root.child({ component })`, sessions
 * `child({ session })`. Client-supplied strings go under their own keys; secrets never.
 */
export function createRootLogger(
  opts: { level?: LevelWithSilent; nodeId?: string; format?: LogFormat } = {},
): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: opts.nodeId ? { node: opts.nodeId } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secret', '*.secret', 'token', '*.token', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  const format = opts.format ?? LogFormat.Auto;
  const wantPretty = format === LogFormat.Pretty || (format === LogFormat.Auto && process.stdout.isTTY);
  const pretty = wantPretty ? prettyStream() : null;
  if (pretty) return pino(options, pretty);
  const log = pino(options);
  if (format === LogFormat.Pretty)
    log.warn('log.format is pretty but pino-pretty is not installed: logging JSON');
  return log;
}

/**
 * pino-pretty in pino's worker-thread transport, when it is installed (a development dependency:
 * the production image logs JSON and carries no pretty-printer).
 */
function prettyStream(): DestinationStream | null {
  let target: string;
  try {
    target = createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    return null;
  }
  return pino.transport({
    target,
    options: { destination: 1, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
  });
}

/** A logger that drops everything: for unit tests and benchmarks of libs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
