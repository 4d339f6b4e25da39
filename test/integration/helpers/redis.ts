import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from './net.ts';

// A throwaway redis-server per test file: own port on 127.0.0.1 (never the system Redis on
// 6379), no persistence, so a kill9() + restart() loses everything like a real crash would.

export interface TestRedis {
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  port: number;
  /** SIGTERM, then SIGKILL if it has not exited after 2 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill9(): Promise<void>;
  /** Starts a fresh, empty server on the same port (kills the old one first if it still runs). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of live) c.kill('SIGKILL');
};
// Safety net: never leave a redis-server behind, whatever happened to the test (a failed
// after(), or the test runner's SIGTERM on timeout: kill, then die of the same signal).
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig);
  });
}

export async function startRedis(opts: { password?: string } = {}): Promise<TestRedis> {
  let child: ChildProcess | null = null;
  let port = 0;
  // The free port may be taken between probe and bind: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port, opts.password);
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  const auth = opts.password === undefined ? '' : `:${encodeURIComponent(opts.password)}@`;
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = null;
    if (c) await killChild(c, signal);
  };
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    stop: () => kill('SIGTERM'),
    kill9: () => kill('SIGKILL'),
    restart: async () => {
      await kill('SIGKILL');
      child = await spawnRedis(port, opts.password);
    },
  };
}

async function spawnRedis(port: number, password: string | undefined): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', tmpdir(), '--daemonize', 'no');
  if (password !== undefined) args.push('--requirepass', password);
  return launchRedis('redis-server', args, port);
}

/**
 * Starts `command` (redis-server or redis-sentinel) with `args`, killed with the test process
 * whatever happens, and waits until it answers on `port`; kills it and throws if it does not.
 */
export async function launchRedis(command: string, args: string[], port: number): Promise<ChildProcess> {
  const c = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(c);
  let output = '';
  c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  c.once('exit', () => live.delete(c));
  const deadline = Date.now() + 5000;
  while (!(await pingable(port))) {
    if (c.exitCode !== null || c.signalCode !== null || Date.now() > deadline) {
      await killChild(c, 'SIGKILL');
      throw new Error(`${command} on port ${port} did not start:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return c;
}

/** True once the server answers an inline PING (NOAUTH also means it is up). */
function pingable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d: Buffer) => done(/^(\+PONG|-NOAUTH)/.test(d.toString())));
    s.once('error', () => done(false));
  });
}

export async function killChild(c: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(t);
}
