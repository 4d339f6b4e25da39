import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SLUICE_BIN } from './build.ts';

export interface SluiceProcess {
  proc: ChildProcess;
  pid: number;
  rtmp: string; // rtmp://127.0.0.1:PORT
  http: string; // http://127.0.0.1:PORT
  ws: string; // ws://127.0.0.1:PORT
  api: string; // http://127.0.0.1:PORT
  /** rtsp://127.0.0.1:PORT when the RTSP listener is on (it is by default). */
  rtsp?: string;
  /** rtmps://, https://, wss://, rtsps:// when those listeners are on. */
  rtmps?: string;
  rtsps?: string;
  https?: string;
  wss?: string;
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Test defaults: short waits so tests are quick, everything on loopback ephemeral ports. */
export const TEST_CONFIG = {
  log: { level: 'info' },
  stream: { waitPublisherMs: 8000 },
  limits: { handshakeTimeoutMs: 2000, idleTimeoutMs: 3000 },
};

/** Starts `sluice standalone` as a child process and waits for its listening line. */
export function startSluice(
  config: object = TEST_CONFIG,
  env: Record<string, string> = {},
): Promise<SluiceProcess> {
  return startRole('standalone', config, env);
}

/** Starts `sluice <role>` (standalone, origin or edge) on ephemeral loopback ports. */
export async function startRole(
  role: 'standalone' | 'origin' | 'edge',
  config: object = TEST_CONFIG,
  env: Record<string, string> = {},
  /** A command that execs the rest of its arguments (e.g. `unshare -rm sh -c '...; exec "$@"'`): same pid. */
  prefix: string[] = [],
): Promise<SluiceProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const file = join(dir, `${role}.json`);
  writeFileSync(file, JSON.stringify(config));
  const argv = [process.execPath, SLUICE_BIN, role, '--config', file];
  const proc = spawn([...prefix, ...argv][0]!, [...prefix, ...argv].slice(1), {
    env: {
      ...process.env,
      SLUICE_RTMP_LISTEN: '127.0.0.1:0',
      SLUICE_HTTP_LISTEN: '127.0.0.1:0',
      SLUICE_RTSP_LISTEN: '127.0.0.1:0',
      SLUICE_API_LISTEN: '127.0.0.1:0',
      SLUICE_NODE_ID: 'test-node',
      // SIGTERM drains (new sessions refused, old ones kept) for this long; tests stop quickly.
      SLUICE_DRAIN_TIMEOUT_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const listening = new Promise<Record<string, string>>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(rec);
      if (rec.msg === 'sluice node listening') resolve(rec.listen as Record<string, string>);
    });
    void exited.then((code) => reject(new Error(`sluice exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`sluice did not start in 20 s: ${stderr}`)), 20_000).unref();
  });
  const listen = await listening;
  const port = (a: string | undefined): string => a!.slice(a!.lastIndexOf(':') + 1);
  return {
    proc,
    pid: proc.pid!,
    rtmp: `rtmp://127.0.0.1:${port(listen.rtmp)}`,
    http: `http://127.0.0.1:${port(listen.http)}`,
    ws: `ws://127.0.0.1:${port(listen.http)}`,
    api: `http://127.0.0.1:${port(listen.api)}`,
    ...(listen.rtmps ? { rtmps: `rtmps://127.0.0.1:${port(listen.rtmps)}` } : {}),
    ...(listen.rtsp ? { rtsp: `rtsp://127.0.0.1:${port(listen.rtsp)}` } : {}),
    ...(listen.rtsps ? { rtsps: `rtsps://127.0.0.1:${port(listen.rtsps)}` } : {}),
    ...(listen.https
      ? { https: `https://127.0.0.1:${port(listen.https)}`, wss: `wss://127.0.0.1:${port(listen.https)}` }
      : {}),
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const res = await fetch(url);
  return (await res.json()) as T;
}

/** RTMP input bytes the node holds right now (partial messages, split headers, handshakes). */
export async function inputHeld(api: string): Promise<number> {
  const stats = await getJson<{ input: { bufferedBytes: number } }>(`${api}/api/v1/stats`);
  return stats.input.bufferedBytes;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
