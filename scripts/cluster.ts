/**
 * `npm run cluster`: a whole Sluice cluster on this machine, for trying it out and for manual
 * tests. Starts redis-server and nats-server on free loopback ports (unless SLUICE_REDIS_URL /
 * SLUICE_NATS_URL are given), then origins, edges and one scheduler as child processes
 * (`node bin/sluice.js <role>`), configured through the environment only. Their JSON logs are
 * shown prefixed with the node id. Ctrl-C / SIGTERM stops everything: nodes first (so they
 * release their claims), then the scheduler, then NATS and Redis.
 *
 *   npm run cluster [-- --origins 2 --edges 2 --key live/test --json --no-infra]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const ROOT = new URL('../', import.meta.url).pathname;
const HOST = '127.0.0.1';
/** Children get SIGTERM, then SIGKILL after this. */
const KILL_AFTER_MS = 5000;
const STARTUP_TIMEOUT_MS = 30_000;

const USAGE = `usage: npm run cluster -- [options]
  --origins N     origins to start (default 2)
  --edges N       edges to start (default 2)
  --key APP/NAME  stream key used in the printed URLs (default live/test)
  --json          print children's log lines as JSON (prefixed), not pretty
  --no-infra      do not start redis-server / nats-server: SLUICE_REDIS_URL and SLUICE_NATS_URL must be set`;

interface Options {
  infra: boolean;
  origins: number;
  edges: number;
  key: string;
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      origins: { type: 'string', default: '2' },
      edges: { type: 'string', default: '2' },
      key: { type: 'string', default: 'live/test' },
      json: { type: 'boolean', default: false },
      'no-infra': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const count = (s: string, name: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 20) throw new Error(`--${name} must be an integer 0..20`);
    return n;
  };
  if (!/^[A-Za-z0-9_.~-]+(\/[A-Za-z0-9_.~-]+)+$/.test(values.key))
    throw new Error('--key must look like app/name');
  return {
    infra: !values['no-infra'],
    origins: count(values.origins, 'origins'),
    edges: count(values.edges, 'edges'),
    key: values.key,
    json: values.json,
  };
}

// ---- processes ----

interface Child {
  id: string;
  /** origin | edge | scheduler | redis | nats */
  kind: string;
  proc: ChildProcess;
  /** Resolves when the child says it listens (nodes) or answers (infra). */
  up: boolean;
  /** Last stderr/stdout lines, shown when it dies. */
  tail: string[];
  exited: Promise<void>;
}

const children: Child[] = [];
let stopping = false;
const tempDirs: string[] = [];

const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields already shown, or noise, in pretty mode. */
const HIDDEN = new Set(['level', 'time', 'node', 'msg', 'pid', 'hostname', 'v']);
let opts: Options;
const tty = process.stdout.isTTY;

function paint(code: number, s: string): string {
  return tty ? `\x1b[${code}m${s}\x1b[0m` : s;
}

function prefix(c: Child): string {
  const i = children.indexOf(c);
  return paint(COLORS[i % COLORS.length]!, c.id.padEnd(12));
}

/** One child output line: JSON logs pretty-printed (level, msg, a few fields), anything else as is. */
function show(c: Child, line: string): void {
  c.tail.push(line);
  if (c.tail.length > 20) c.tail.shift();
  let rec: Record<string, unknown> | null = null;
  if (line.startsWith('{')) {
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      rec = null;
    }
  }
  if (!rec || opts.json) {
    process.stdout.write(`${prefix(c)} ${line}\n`);
    return;
  }
  const level = LEVELS[Number(rec.level)] ?? String(rec.level);
  const lvl =
    level === 'ERROR' || level === 'FATAL' ? paint(31, level) : level === 'WARN' ? paint(33, level) : level;
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .slice(0, 8)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const text = `${lvl.padEnd(tty && lvl !== level ? 14 : 5)} ${typeof rec.msg === 'string' ? rec.msg : ''} ${paint(2, fields)}`;
  process.stdout.write(`${prefix(c)} ${text.length > 400 ? text.slice(0, 400) + '…' : text}\n`);
}

function launch(id: string, kind: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Child {
  // Own process group: the terminal's Ctrl-C reaches only us, so we decide the stop order.
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const c: Child = { id, kind, proc, up: false, tail: [], exited: Promise.resolve() };
  c.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      if (!stopping) {
        process.stdout.write(
          paint(31, `\n!! ${id} (${kind}) exited unexpectedly: ${signal ?? `code ${code}`}\n`) +
            c.tail
              .slice(-8)
              .map((l) => `   ${l}\n`)
              .join('') +
            '\n',
        );
      }
      resolve();
    });
    proc.once('error', (err) => {
      process.stdout.write(paint(31, `!! ${id}: cannot start ${cmd}: ${err.message}\n`));
      resolve();
    });
  });
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.includes('"msg":"sluice node listening"') || line.includes('"msg":"scheduler listening"'))
        c.up = true;
      show(c, line);
    });
  }
  children.push(c);
  return c;
}

/** SIGTERM one child, SIGKILL it if it is still there after KILL_AFTER_MS. */
async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null || c.proc.pid === undefined) return;
  signalGroup(c, 'SIGTERM');
  const t = setTimeout(() => {
    process.stdout.write(paint(33, `${c.id} did not stop in ${KILL_AFTER_MS / 1000} s: SIGKILL\n`));
    signalGroup(c, 'SIGKILL');
  }, KILL_AFTER_MS);
  await c.exited;
  clearTimeout(t);
}

function signalGroup(c: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.proc.pid!, signal);
  } catch {
    // already gone
  }
}

async function shutdown(reason: string, code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  process.stdout.write(`\n${reason}: stopping the cluster…\n`);
  const nodes = children.filter((c) => c.kind === 'origin' || c.kind === 'edge');
  await Promise.all(nodes.map(stopChild));
  await Promise.all(children.filter((c) => c.kind === 'scheduler').map(stopChild));
  await Promise.all(children.filter((c) => c.kind === 'redis' || c.kind === 'nats').map(stopChild));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  process.stdout.write('stopped.\n');
  process.exit(code);
}

// ---- infra ----

/** A port free a moment ago; never one handed out before in this run. */
const given = new Set<number>();
async function freePort(): Promise<number> {
  for (;;) {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    const a = srv.address();
    await new Promise<void>((r) => srv.close(() => r()));
    const port = typeof a === 'object' && a ? a.port : 0;
    if (port && !given.has(port)) {
      given.add(port);
      return port;
    }
  }
}

/** True once something on `port` sends a first line matching `greeting` (after `hello`). */
function answers(port: number, hello: string, greeting: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: HOST, port });
    const done = (ok: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 500);
    s.once('connect', () => hello && s.write(hello));
    s.once('data', (d: Buffer) => done(greeting.test(d.toString())));
    s.once('error', () => done(false));
  });
}

async function waitUp(c: Child, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await probe())) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null)
      throw new Error(`${c.id} exited during startup`);
    if (Date.now() > end) throw new Error(`${c.id} did not come up in 10 s`);
    await sleep(100);
  }
  c.up = true;
}

function findBinary(name: string): string {
  for (const dir of [
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    '/usr/sbin',
    '/usr/local/sbin',
  ]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  throw new Error(
    `${name} not found (install it, e.g. bash scripts/setup-test-deps.sh, or pass its URL and --no-infra)`,
  );
}

async function startInfra(): Promise<{ redisUrl: string; natsUrl: string }> {
  let redisUrl = process.env.SLUICE_REDIS_URL ?? '';
  let natsUrl = process.env.SLUICE_NATS_URL ?? '';
  if (!opts.infra && (!redisUrl || !natsUrl))
    throw new Error('--no-infra needs SLUICE_REDIS_URL and SLUICE_NATS_URL');
  if (!redisUrl) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-redis-'));
    tempDirs.push(dir);
    const args = [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ];
    const c = launch('redis', 'redis', findBinary('redis-server'), args, process.env);
    await waitUp(c, () => answers(port, 'PING\r\n', /^\+PONG/));
    redisUrl = `redis://${HOST}:${port}/0`;
  }
  if (!natsUrl) {
    const port = await freePort();
    const c = launch(
      'nats',
      'nats',
      findBinary('nats-server'),
      ['-a', HOST, '-p', String(port)],
      process.env,
    );
    await waitUp(c, () => answers(port, '', /^INFO /));
    natsUrl = `nats://${HOST}:${port}`;
  }
  return { redisUrl, natsUrl };
}

// ---- nodes ----

interface NodePorts {
  id: string;
  role: 'origin' | 'edge' | 'scheduler';
  rtmp: number;
  http: number;
  rtsp: number;
  api: number;
}

async function startNodes(infra: { redisUrl: string; natsUrl: string }): Promise<NodePorts[]> {
  const secret = randomBytes(18).toString('base64url');
  const specs: NodePorts[] = [];
  const add = async (id: string, role: NodePorts['role']): Promise<void> => {
    const p =
      role === 'scheduler'
        ? { rtmp: 0, http: 0, rtsp: 0 }
        : { rtmp: await freePort(), http: await freePort(), rtsp: await freePort() };
    specs.push({ id, role, ...p, api: await freePort() });
  };
  for (let i = 1; i <= opts.origins; i++) await add(`origin-${i}`, 'origin');
  for (let i = 1; i <= opts.edges; i++) await add(`edge-${i}`, 'edge');
  await add('scheduler-1', 'scheduler');
  for (const s of specs) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SLUICE_NODE_ID: s.id,
      SLUICE_REDIS_URL: infra.redisUrl,
      SLUICE_NATS_URL: infra.natsUrl,
      SLUICE_ADVERTISE_HOST: HOST,
      SLUICE_RELAY_SECRET: secret,
    };
    if (s.role === 'scheduler') env.SLUICE_SCHEDULER_LISTEN = `${HOST}:${s.api}`;
    else {
      env.SLUICE_RTMP_LISTEN = `${HOST}:${s.rtmp}`;
      env.SLUICE_HTTP_LISTEN = `${HOST}:${s.http}`;
      env.SLUICE_API_LISTEN = `${HOST}:${s.api}`;
      env.SLUICE_RTSP_LISTEN = `${HOST}:${s.rtsp}`;
    }
    launch(s.id, s.role, process.execPath, [join(ROOT, 'bin/sluice.js'), s.role], env);
  }
  const end = Date.now() + STARTUP_TIMEOUT_MS;
  const pending = (): Child[] =>
    children.filter((c) => !c.up && c.proc.exitCode === null && c.proc.signalCode === null);
  while (pending().length > 0 && Date.now() < end) await sleep(100);
  return specs;
}

function printTable(infra: { redisUrl: string; natsUrl: string }, nodes: NodePorts[]): void {
  const k = opts.key;
  /** Padded before painting so the columns line up with colours on. */
  const state = (id: string): string => {
    const c = children.find((x) => x.id === id);
    const up = c?.up === true && c.proc.exitCode === null && c.proc.signalCode === null;
    return up ? paint(32, 'up'.padEnd(6)) : paint(31, 'DOWN'.padEnd(6));
  };
  const out: string[] = ['', paint(1, 'Sluice cluster'), ''];
  out.push(`  redis      ${infra.redisUrl}`, `  nats       ${infra.natsUrl}`, '');
  out.push(paint(1, '  node          role        state  rtmp               http               api'));
  for (const n of nodes) {
    const addr = (p: number): string => (p ? `${HOST}:${p}` : '-').padEnd(18);
    out.push(
      `  ${n.id.padEnd(13)} ${n.role.padEnd(11)} ${state(n.id)} ${addr(n.rtmp)} ${addr(n.http)} ${addr(n.api)}`,
    );
  }
  const origin = nodes.find((n) => n.role === 'origin');
  const sched = nodes.find((n) => n.role === 'scheduler')!;
  const s = `http://${HOST}:${sched.api}`;
  out.push('', paint(1, '  Publish'));
  if (origin) {
    out.push(`    ${origin.id}: rtmp://${HOST}:${origin.rtmp}/${k}`);
    out.push(
      `      ffmpeg -re -stream_loop -1 -i input.mp4 -c copy -f flv rtmp://${HOST}:${origin.rtmp}/${k}`,
    );
  }
  out.push(`    which origin: ${s}/api/v1/ingest/${k}`);
  out.push('', paint(1, '  Play'));
  for (const e of nodes.filter((n) => n.role === 'edge')) {
    out.push(`    ${e.id}: rtmp://${HOST}:${e.rtmp}/${k}`);
    out.push(`    ${' '.repeat(e.id.length)}  http://${HOST}:${e.http}/${k}.flv`);
    out.push(`    ${' '.repeat(e.id.length)}  ws://${HOST}:${e.http}/${k}.flv`);
  }
  out.push(`    via the scheduler (302 to an edge): ffplay ${s}/play/${k}.flv`);
  out.push('', paint(1, '  Scheduler'));
  for (const p of [
    '/api/v1/streams',
    `/api/v1/streams/${k}`,
    '/api/v1/nodes',
    `/api/v1/route/${k}?protocol=flv`,
    `/api/v1/ingest/${k}`,
    `/play/${k}.flv`,
    '/healthz',
    '/readyz',
    '/metrics',
  ]) {
    out.push(`    ${s}${p}`);
  }
  const apis = nodes
    .filter((n) => n.role !== 'scheduler')
    .map((n) => `${n.id} http://${HOST}:${n.api}/api/v1/stats`);
  if (apis.length) out.push('', paint(1, '  Node APIs'), ...apis.map((a) => `    ${a}`));
  out.push('', '  Ctrl-C stops everything.', '');
  process.stdout.write(out.join('\n') + '\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig, 0));
  // Whatever happens to us, leave nothing running behind.
  process.on('exit', () => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) signalGroup(c, 'SIGKILL');
  });
  let infra: { redisUrl: string; natsUrl: string };
  try {
    infra = await startInfra();
  } catch (e) {
    process.stderr.write(`cluster: ${(e as Error).message}\n`);
    return shutdown('infra failed', 1);
  }
  const nodes = await startNodes(infra);
  printTable(infra, nodes);
}

await main();
