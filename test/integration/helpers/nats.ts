import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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
  /** Rewrites the config file (`config` option) and makes the running server reload it (SIGHUP). */
  reload(config: string): Promise<void>;
}

export interface NatsServerOptions {
  /** Pins the port (for a client started before the server). */
  port?: number;
  /** Extra server flags. */
  args?: string[];
  /** nats-server.conf text, written to a temp file and given with `-c`; `-a`/`-p` still set the address. */
  config?: string;
  /** Absolute paths of config files to `include` after `config` (nats-server resolves includes relative to the including file). */
  include?: string[];
  /** Extra environment for the server: values for `$VARIABLE` references in its config. */
  env?: Record<string, string>;
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
 */
export async function startNats(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerPath();
  const port = opts.port ?? (await freePort());
  const confDir = opts.config === undefined ? '' : mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const confFile = join(confDir, 'nats-server.conf');
  const writeConfig = (text: string): void => {
    const includes = (opts.include ?? []).map((p) => `include "${relative(confDir, p)}"`);
    writeFileSync(confFile, [text, ...includes, ''].join('\n'));
  };
  if (opts.config !== undefined) writeConfig(opts.config);
  const confArgs = opts.config === undefined ? [] : ['-c', confFile];
  let proc: ChildProcess | null = null;
  let stderr = '';
  /** Reload outcomes the server logged (SIGHUP). */
  const reloads = { done: 0, failed: '' };
  // A crashed test run must not leave servers behind.
  const killOnExit = (): void => void proc?.kill('SIGKILL');

  const launch = async (): Promise<void> => {
    stderr = '';
    const p = spawn(bin, [...confArgs, '-a', '127.0.0.1', '-p', String(port), ...(opts.args ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    p.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr = (stderr + text).slice(-2000);
      if (/Reloaded server configuration/.test(text)) reloads.done++;
      const failed = /Failed to reload.*/i.exec(text);
      if (failed) reloads.failed = failed[0];
    });
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
    reload: async (config) => {
      if (opts.config === undefined) throw new Error('reload needs a server started with `config`');
      writeConfig(config);
      const before = reloads.done;
      reloads.failed = '';
      proc?.kill('SIGHUP');
      const deadline = Date.now() + 5000;
      // nats-server logs the outcome of a reload: wait for it.
      while (reloads.done === before) {
        if (reloads.failed || Date.now() > deadline)
          throw new Error(`nats-server did not reload: ${reloads.failed || stderr.slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
