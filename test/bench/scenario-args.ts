// The scenario options of `npm run bench` (--grid, --publishers, --relay), parsed apart from
// args.ts so the fan-out options stay where they were. See README.md, "Scenarios".

/**
 * `grid`: S streams x P players; `publishers`: N publishers with K viewers each (the same run,
 * from the publishers' side); `relay`: origin -> edge against direct play on the origin.
 */
export const ScenarioKind = { Grid: 'grid', Publishers: 'publishers', Relay: 'relay' } as const;
export type ScenarioKind = (typeof ScenarioKind)[keyof typeof ScenarioKind];

export type Scenario =
  | {
      kind: typeof ScenarioKind.Grid | typeof ScenarioKind.Publishers;
      streams: number;
      playersPerStream: number;
    }
  | { kind: typeof ScenarioKind.Relay };

/** Streams of one run: each is an in-process publisher and a socket of the bench. */
export const MAX_SCENARIO_STREAMS = 1000;
/** Players of a whole grid, as --players allows for one stream. */
export const MAX_SCENARIO_PLAYERS = 5000;
export const MAX_VIEWERS_PER_STREAM = 100;

/** The raw flags this file reads (strings as node:util parseArgs gives them). */
export interface ScenarioFlags {
  grid?: string | undefined;
  publishers?: string | undefined;
  'viewers-per-stream'?: string | undefined;
  relay?: boolean | undefined;
  /** Present when given: each conflicts with some scenario. */
  players?: string | undefined;
  streams?: string | undefined;
  profile?: boolean | undefined;
  peer?: string | undefined;
  coalesce?: string | undefined;
  /** Any of --rtmp/--http/--rtsp/--api/--server was given. */
  targeted: boolean;
}

export const SCENARIO_USAGE = `  --grid SxP             S streams x P players of --proto on one spawned server, S in-process
                         publishers under one timer, e.g. 100x20 (S max ${MAX_SCENARIO_STREAMS}, S*P max ${MAX_SCENARIO_PLAYERS})
  --publishers N         N in-process publishers on one spawned server: CPU, RSS, publishers behind
                         (max ${MAX_SCENARIO_STREAMS})
  --viewers-per-stream K with --publishers: K players of --proto per stream (default 0)
  --relay                a real origin and edge (spawns redis-server, nats-server): --players on the
                         origin, then on the edge (relay-pulled), and the difference`;

const count = (v: string, name: string, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer in ${min}..${max}, got ${v}`);
  return n;
};

/** The scenario asked for, or null; throws Error with a message for the user on bad input. */
export function parseScenario(f: ScenarioFlags): Scenario | null {
  const given = [
    f.grid !== undefined && '--grid',
    f.publishers !== undefined && '--publishers',
    f.relay === true && '--relay',
  ].filter((x): x is string => x !== false);
  if (f['viewers-per-stream'] !== undefined && f.publishers === undefined)
    throw new Error('--viewers-per-stream only applies to --publishers');
  if (given.length === 0) return null;
  const name = given[0]!;
  if (given.length > 1) throw new Error(`${given.join(' and ')} are separate runs: pick one`);
  if (f.streams !== undefined) throw new Error(`${name} and --streams are separate runs: pick one`);
  if (f.targeted) throw new Error(`${name} spawns its own servers: drop the target`);
  if (f.profile && f.relay) throw new Error('--profile is not summarized for --relay (two servers)');
  // Comparisons (compare.ts) repeat one fan-out run per server, setting or count; a scenario is one run.
  if (f.peer !== undefined || f.coalesce !== undefined)
    throw new Error(`--peer and --coalesce compare fan-out runs: not with ${name}`);
  if (f.relay) {
    if (f.players?.includes(','))
      throw new Error('--relay measures one player count: give --players N, not a list');
    return { kind: ScenarioKind.Relay };
  }
  if (f.players !== undefined)
    throw new Error(
      `${name} sets the players per stream${f.players.includes(',') ? ' (a --players list compares fan-out runs)' : ''}: drop --players`,
    );
  if (f.grid !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(f.grid);
    if (!m) throw new Error(`--grid takes STREAMSxPLAYERS, e.g. 100x20, got ${f.grid}`);
    const streams = count(m[1]!, 'grid streams', 1, MAX_SCENARIO_STREAMS);
    const playersPerStream = count(m[2]!, 'grid players', 1, MAX_SCENARIO_PLAYERS);
    if (streams * playersPerStream > MAX_SCENARIO_PLAYERS)
      throw new Error(
        `--grid ${f.grid} makes ${streams * playersPerStream} players, at most ${MAX_SCENARIO_PLAYERS}`,
      );
    return { kind: ScenarioKind.Grid, streams, playersPerStream };
  }
  const streams = count(f.publishers!, 'publishers', 1, MAX_SCENARIO_STREAMS);
  const viewers = f['viewers-per-stream'];
  const playersPerStream =
    viewers === undefined ? 0 : count(viewers, 'viewers-per-stream', 0, MAX_VIEWERS_PER_STREAM);
  if (streams * playersPerStream > MAX_SCENARIO_PLAYERS)
    throw new Error(
      `--publishers ${streams} x --viewers-per-stream ${playersPerStream} is over ${MAX_SCENARIO_PLAYERS} players`,
    );
  return { kind: ScenarioKind.Publishers, streams, playersPerStream };
}
