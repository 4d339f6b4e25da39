import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SLUICE_BIN } from '../integration/helpers/build.ts';

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
async function freePorts(n: number): Promise<number[]> {
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

/** Which `sluice` role to run and its node id (origins and edges of one cluster need distinct ids). */
export interface SpawnRole {
  role: 'standalone' | 'origin' | 'edge';
  nodeId: string;
}

/**
 * `node [nodeArgs] bin/sluice.js standalone` (or another role) on ephemeral loopback ports,
 * logging at warn (its listen line is info, hence the ports are chosen here). The child is the
 * node process itself, so /proc/<pid> describes the server.
 */
export async function spawnServer(
  workDir: string,
  nodeArgs: string[],
  /** Top-level config sections added to the bench's (e.g. `{ hls: { enabled: false } }`). */
  extraConfig: Record<string, unknown> = {},
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
  const child = spawn(process.execPath, [...nodeArgs, SLUICE_BIN, node.role, '--config', configFile], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_NODE_ID: node.nodeId },
  });
  const warnings = new Map<string, number>();
  let partial = '';
  const tally = (d: Buffer): void => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let msg = line.trim();
      try {
        const j = JSON.parse(line) as { msg?: string };
        msg = j.msg ?? msg;
      } catch {
        // not JSON (e.g. a stack trace on stderr): keep the raw line
      }
      if (msg) warnings.set(msg.slice(0, 160), (warnings.get(msg.slice(0, 160)) ?? 0) + 1);
    }
  };
  child.stdout.on('data', tally);
  child.stderr.on('data', tally);
  // A bench that crashes (an uncaught exception) must not leave its server running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      process.off('exit', killOnExit);
      r(code);
    }),
  );
  const api = `http://127.0.0.1:${apiPort}`;
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    const code = await exited;
    clearTimeout(kill);
    return code;
  };
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
