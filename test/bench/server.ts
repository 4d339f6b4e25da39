import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { SLUICE_BIN } from '../integration/helpers/build.ts';
import { pinnedCommand } from './pinning.ts';

export interface ServerEndpoints {
  rtmp: string;
  http: string;
  /** rtsp://h:p, '' when unknown. */
  rtsp: string;
  api: string | null;
}

export interface SpawnedServer extends ServerEndpoints {
  pid: number;
  /** Server log lines at warn and above, tallied by msg. */
  readonly warnings: Map<string, number>;
  stop(): Promise<number | null>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

/** Free loopback ports: bound to 0, read, released (a tiny race we accept in a bench). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A spawned server's log and end: its lines tallied by message, SIGTERM then SIGKILL to stop it. */
export interface Supervised {
  readonly warnings: Map<string, number>;
  readonly stop: () => Promise<number | null>;
}

/**
 * Tallies `child`'s stdout and stderr lines under `key(line)` (null skips the line) and stops
 * it with SIGTERM, then SIGKILL after STOP_GRACE_MS. Only this child is signalled.
 */
export function superviseChild(child: ChildProcess, key: (line: string) => string | null): Supervised {
  const warnings = new Map<string, number>();
  const tally = (text: string): void => {
    const k = key(text.trim());
    if (k) warnings.set(k.slice(0, 160), (warnings.get(k.slice(0, 160)) ?? 0) + 1);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) tally(line);
    });
  }
  // A bench that crashes (an uncaught exception) must not leave its servers running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      process.off('exit', killOnExit);
      r(code);
    }),
  );
  // A failed exec (no such binary) emits 'error' and no 'exit'.
  child.on('error', (e) => {
    process.off('exit', killOnExit);
    warnings.set(`spawn failed: ${e.message}`, 1);
  });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.pid === undefined) return child.exitCode;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    const code = await exited;
    clearTimeout(kill);
    return code;
  };
  return { warnings, stop };
}

/** Until something accepts TCP connections on 127.0.0.1:port, or the child exits. */
export async function waitListening(port: number, child: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited with ${child.exitCode ?? child.signalCode} before it listened`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} not listening within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitHealthy(api: string, child: ChildProcess): Promise<void> {
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with code ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`${api}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`server not healthy within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sluice's log line as a tally key: pino's msg, or the raw line (a stack trace on stderr). */
function sluiceLogKey(line: string): string | null {
  try {
    const j = JSON.parse(line) as { msg?: string };
    return j.msg ?? line;
  } catch {
    return line || null;
  }
}

/** Which `sluice` role to run and its node id (origins and edges of one cluster need distinct ids). */
export interface SpawnRole {
  role: 'standalone' | 'origin' | 'edge';
  nodeId: string;
}

/**
 * `node [nodeArgs] bin/sluice.js standalone` (or another role) on ephemeral loopback ports,
 * logging at warn (its listen line is info, hence the ports are chosen here). The child is the
 * node process itself (also under taskset, which execs), so /proc/<pid> describes the server.
 */
export async function spawnServer(
  workDir: string,
  nodeArgs: string[],
  /** Top-level config sections added to the bench's (e.g. `{ hls: { enabled: false } }`). */
  extraConfig: Record<string, unknown> = {},
  /** Run the server on this CPU only (see pinning.ts). */
  pinCpu: number | null = null,
  node: SpawnRole = { role: 'standalone', nodeId: 'bench' },
): Promise<SpawnedServer> {
  mkdirSync(workDir, { recursive: true });
  const [rtmpPort, httpPort, apiPort, rtspPort] = await freePorts(4);
  const config = {
    log: { level: 'warn' },
    rtmp: { listen: `127.0.0.1:${rtmpPort}` },
    http: { listen: `127.0.0.1:${httpPort}` },
    api: { listen: `127.0.0.1:${apiPort}` },
    rtsp: { listen: `127.0.0.1:${rtspPort}` },
    // The bench stops its clients first; HLS sessions would hold the drain open until they time out.
    drain: { timeoutMs: 1000 },
    ...extraConfig,
    // Every bench client comes from 127.0.0.1: the per-address HLS session cap must not apply.
    hls: { maxSessionsPerClient: 100_000, ...(extraConfig.hls as object | undefined) },
  };
  const configFile = join(
    workDir,
    node.role === 'standalone' ? 'server-config.json' : `${node.nodeId}-config.json`,
  );
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  // As the image and `npm start` run it (deploy/Dockerfile); a semi-space size in nodeArgs wins.
  const v8Memory = nodeArgs.some((a) => a.startsWith('--max-semi-space-size'))
    ? []
    : ['--max-semi-space-size=2'];
  const [file, args] = pinnedCommand(pinCpu, process.execPath, [
    ...v8Memory,
    ...nodeArgs,
    SLUICE_BIN,
    node.role,
    '--config',
    configFile,
  ]);
  const child = spawn(file, args, {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_NODE_ID: node.nodeId },
  });
  const { warnings, stop } = superviseChild(child, sluiceLogKey);
  const api = `http://127.0.0.1:${apiPort}`;
  try {
    await waitHealthy(api, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    pid: child.pid!,
    rtmp: `rtmp://127.0.0.1:${rtmpPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    rtsp: `rtsp://127.0.0.1:${rtspPort}`,
    api,
    warnings,
    stop,
  };
}
