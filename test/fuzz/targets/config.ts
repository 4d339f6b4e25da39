import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../libs/config/load.ts';
import { parseListen } from '../../../libs/config/listen.ts';
import { natsSettingsOf, redisTargetOf } from '../../../services/node/cluster-config.ts';
import { loadEdgeConfig } from '../../../services/edge/config.ts';
import { loadOriginConfig } from '../../../services/origin/config.ts';
import { loadSchedulerConfig } from '../../../services/scheduler/config.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';
import { jsonMutator } from '../structure/json-values.ts';

// A file in memory where there is one: writing to a disk-backed /tmp costs ten times more.
const DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const FILE = join(DIR, `sluice-fuzz-config-${process.pid}-${process.hrtime.bigint()}.json`);
process.on('exit', () => rmSync(FILE, { force: true }));

/** Each role's loader, then the checks its main() makes before anything starts. */
const ROLES: [string, (file: string) => void][] = [
  ['standalone', (f) => mediaChecks(loadStandaloneConfig(f, {}))],
  ['origin', (f) => clusterChecks(mediaChecks(loadOriginConfig(f, {})))],
  ['edge', (f) => clusterChecks(mediaChecks(loadEdgeConfig(f, {})))],
  [
    'scheduler',
    (f) => {
      const c = loadSchedulerConfig(f, {});
      listenChecks([c.listen]);
      redisTargetOf(c.cluster);
      if (c.cluster.natsUrl && noFiles(c.cluster)) natsSettingsOf(c.cluster);
    },
  ],
];

interface MediaLike {
  rtmp: { listen: string };
  http: { listen: string };
  api: { listen: string };
}

function mediaChecks<T extends MediaLike>(c: T): T {
  listenChecks([c.rtmp.listen, c.http.listen, c.api.listen]);
  return c;
}

function clusterChecks(c: { cluster: Parameters<typeof natsSettingsOf>[0] & { redisUrl: string } }): void {
  redisTargetOf(c.cluster);
  if (noFiles(c.cluster)) natsSettingsOf(c.cluster);
}

/** NATS credential files are read at startup: a fuzzed path could name /dev/zero. */
const noFiles = (c: {
  natsCredsFile?: string;
  natsCaFile?: string;
  natsCertFile?: string;
  natsKeyFile?: string;
}): boolean => !c.natsCredsFile && !c.natsCaFile && !c.natsCertFile && !c.natsKeyFile;

/** A listen address the schema accepted must be one the listener can bind. */
function listenChecks(addresses: string[]): void {
  for (const a of addresses) {
    try {
      parseListen(a);
    } catch (e) {
      invariant(
        false,
        `schema accepted listen ${JSON.stringify(a)} that parseListen rejects: ${(e as Error).message}`,
      );
    }
  }
}

/**
 * Config files (libs/config/load.ts and each role's loader): mutated JSON must give a
 * ConfigError that names its problems, never another exception, and a config that loads must
 * pass the startup checks.
 */
// Each role's validator is compiled on its first load (a second or so for four schemas on a busy
// machine): done here, so no fuzzed input is charged for it as a slow call.
writeFileSync(FILE, '{}');
for (const [, load] of ROLES) load(FILE);

export const target: FuzzTarget = {
  name: 'config',
  description: "every role's config loader + startup checks on mutated conf/*.json",
  mutators: [jsonMutator, jsonMutator, jsonMutator],
  dictionary: ['{', '}', '[', ']', '"', ':', ',', 'null', '1e999', '-0', '"\\u0000"', '"__proto__"'].map(
    (s) => Buffer.from(s),
  ),
  maxInputBytes: 16 * 1024,
  allowed: (e) => e instanceof ConfigError,
  run(input) {
    writeFileSync(FILE, input);
    // Every role reads the file; it counts as parsed when one of them accepts it.
    let first: unknown = null;
    let accepted = false;
    for (const [role, load] of ROLES) {
      try {
        load(FILE);
        accepted = true;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        invariant(
          e.problems.length > 0 && e.problems.every((p) => p.length > 0),
          `${role}: empty problem list`,
        );
        first ??= e;
      }
    }
    if (!accepted) throw first;
  },
};
