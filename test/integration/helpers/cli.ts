import { spawn, type ChildProcess } from 'node:child_process';
import { SLUICE_BIN } from './build.ts';

// Running `sluice ARGS` to completion, as an operator (or a container's probe) would.

const ROOT = new URL('../../../', import.meta.url).pathname;

/** Listeners on loopback ephemeral ports, so a role that does start disturbs nothing. */
export const LOOPBACK = {
  SLUICE_RTMP_LISTEN: '127.0.0.1:0',
  SLUICE_HTTP_LISTEN: '127.0.0.1:0',
  SLUICE_RTSP_LISTEN: '127.0.0.1:0',
  SLUICE_API_LISTEN: '127.0.0.1:0',
};

/** The test runner's environment without any SLUICE_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLUICE_')) env[k] = v;
  return { ...env, ...extra };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Every CLI process started here, for the test file's after() to reap. */
export const cliProcs: ChildProcess[] = [];

/** Runs `sluice ARGS` to completion (killed after `timeoutMs`: a server that starts is a failure here). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SLUICE_BIN, ...args], {
      cwd: ROOT,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cliProcs.push(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Kills whatever runCli started that is still running. */
export function killCliProcs(): void {
  for (const p of cliProcs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
