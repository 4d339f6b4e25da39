import { parseArgs } from 'node:util';
import { ConfigError } from '../../libs/config/load.ts';
import { runEdge } from '../edge/main.ts';
import { runOrigin } from '../origin/main.ts';
import { runScheduler } from '../scheduler/main.ts';
import { runStandalone } from '../standalone/main.ts';

const USAGE = `usage: sluice <standalone|origin|edge|scheduler> [--config FILE]

Roles:
  standalone   single node: RTMP in; RTMP, HTTP-FLV, WebSocket-FLV out (no Redis/NATS)
  origin       cluster origin: accepts publishes, owns streams in Redis, serves relay pulls
  edge         cluster edge: serves viewers, pulls streams from origins on demand
  scheduler    cluster scheduler: HTTP API on :8090 (routes viewers to edges, publishers to origins)

Without --config a role runs on its defaults (what conf/<role>.json holds).
Environment overrides: SLUICE_NODE_ID, SLUICE_RTMP_LISTEN, SLUICE_HTTP_LISTEN, SLUICE_API_LISTEN.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const role = parsed.positionals[0];
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!role) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    switch (role) {
      case 'standalone':
        await runStandalone(parsed.values.config);
        return -1; // keeps running
      case 'origin':
        await runOrigin(parsed.values.config);
        return -1;
      case 'edge':
        await runEdge(parsed.values.config);
        return -1;
      case 'scheduler':
        await runScheduler(parsed.values.config);
        return -1;
      default:
        process.stderr.write(`sluice: unknown role "${role}"\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sluice: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
      process.stderr.write(`sluice: cannot listen: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
