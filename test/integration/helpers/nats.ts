import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './net.ts';

export interface NatsServer {
  url: string;
  port: number;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and starts a fresh one on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs with its connections open (only pings notice). */
  pause(): void;
  resume(): void;
}

/** The nats-server binary: on PATH, else the Debian package's /usr/sbin. */
function natsServerPath(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/bin']) {
    const p = join(dir, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error('nats-server not found on PATH or in /usr/sbin');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A private nats-server on a free loopback port (never the system one on 4222), for tests
 * that need a real broker, including outages (stop) and comebacks on the same port (restart).
 * `port` pins the port (for a client started before the server); `args` are extra server flags.
 */
export async function startNats(opts: { port?: number; args?: string[] } = {}): Promise<NatsServer> {
  const bin = natsServerPath();
  const port = opts.port ?? (await freePort());
  let proc: ChildProcess | null = null;
  // A crashed test run must not leave servers behind.
  const killOnExit = (): void => void proc?.kill('SIGKILL');

  const launch = async (): Promise<void> => {
    let stderr = '';
    const p = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), ...(opts.args ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    proc = p;
    process.on('exit', killOnExit);
    const deadline = Date.now() + 5000;
    while (!(await accepts(port))) {
      if (p.exitCode !== null || Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`nats-server on port ${port} did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    process.off('exit', killOnExit);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
  };
}
