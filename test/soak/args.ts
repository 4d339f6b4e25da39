import { parseArgs } from 'node:util';

export interface SoakArgs {
  minutes: number;
  /** Viewers kept connected on average. */
  viewers: number;
  /** Regular stream keys (the slow/stalled viewers' high-bitrate key comes on top). */
  streams: number;
  /** Publisher lifetime before it is killed and restarted, uniform in [min, max] seconds. */
  publishMinS: number;
  publishMaxS: number;
  /** Clients that connect and close or hang mid-handshake, per second. */
  abortsPerS: number;
  sampleS: number;
  seed: number;
  /** JSON report path, or null. */
  out: string | null;
  /** Directory for every process's log lines, or null. */
  logs: string | null;
}

export const USAGE = `usage: npm run soak -- --minutes N [options]

  --minutes N          load phase length (default 1; the growth verdict needs 10 or more)
  --viewers N          viewers connected on average (default 500)
  --streams N          regular stream keys (default 4; plus soak/hd for the slow and stalled tenth)
  --publish-min-s S    publishers live S..max s before being killed and restarted (default 30)
  --publish-max-s S    (default 60)
  --aborts-per-s R     connections closed or left hanging mid-handshake per second (default 1)
  --sample-s S         sampling period of every process (default 5)
  --seed N             random seed (default: from the clock; printed)
  --out FILE           write the JSON report there
  --logs DIR           write every Sluice process's log lines to DIR/<process>.log`;

const num = (v: string | undefined, name: string, def: number, min: number, max: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number in ${min}..${max}, got ${v}`);
  return n;
};

/** Parses argv; throws an Error naming the option on bad input. */
export function parseSoakArgs(argv: string[]): SoakArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      viewers: { type: 'string' },
      streams: { type: 'string' },
      'publish-min-s': { type: 'string' },
      'publish-max-s': { type: 'string' },
      'aborts-per-s': { type: 'string' },
      'sample-s': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      logs: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const publishMinS = num(values['publish-min-s'], 'publish-min-s', 30, 5, 3600);
  const publishMaxS = num(values['publish-max-s'], 'publish-max-s', 60, 5, 3600);
  if (publishMaxS < publishMinS) throw new Error('--publish-max-s must not be below --publish-min-s');
  return {
    minutes: num(values.minutes, 'minutes', 1, 0.25, 24 * 60),
    viewers: Math.round(num(values.viewers, 'viewers', 500, 0, 5000)),
    streams: Math.round(num(values.streams, 'streams', 4, 1, 16)),
    publishMinS,
    publishMaxS,
    abortsPerS: num(values['aborts-per-s'], 'aborts-per-s', 1, 0, 50),
    sampleS: num(values['sample-s'], 'sample-s', 5, 1, 60),
    seed: Math.round(num(values.seed, 'seed', Date.now() % 2 ** 31, 0, 2 ** 31)),
    out: values.out ?? null,
    logs: values.logs ?? null,
  };
}
