import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SLUICE_BIN } from './helpers/build.ts';
import { cleanEnv } from './helpers/cli.ts';

// What each listen form binds. Binding every interface is only safe where nothing else can
// reach: each server runs in a network namespace of its own (`unshare --net`: loopback only),
// and the probes connect from inside that namespace (`nsenter`).

const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});

const canUnshare = spawnSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up']).status === 0;
const skip = canUnshare
  ? false
  : 'needs `unshare --net` and `ip` (root, util-linux, iproute2): not available here';

/** Starts standalone in a fresh network namespace; resolves with its pid and listen addresses. */
async function startIsolated(
  env: Record<string, string>,
  setup = 'true',
): Promise<{ pid: number; listen: Record<string, string> }> {
  const script = `ip link set lo up && ${setup} && exec "$0" "$1" standalone`;
  const p = spawn('unshare', ['--net', '--', 'sh', '-c', script, process.execPath, SLUICE_BIN], {
    env: cleanEnv({ SLUICE_NODE_ID: 'netns', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const listen = await new Promise<Record<string, string>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line in 20 s: ${stderr}`)), 20_000);
    p.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    createInterface({ input: p.stdout }).on('line', (line) => {
      const rec = JSON.parse(line) as { msg: string; listen?: Record<string, string> };
      if (rec.msg === 'sluice node listening') {
        clearTimeout(t);
        resolve(rec.listen!);
      }
    });
  });
  return { pid: p.pid!, listen };
}

/** Which of `targets` (host, port) accept a TCP connection, tried from inside `pid`'s namespace. */
function reachable(pid: number, targets: [string, number][]): boolean[] {
  const probe = `
    const net = require('node:net');
    const targets = ${JSON.stringify(targets)};
    Promise.all(targets.map(([host, port]) => new Promise((r) => {
      const s = net.connect({ host, port });
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    }))).then((ok) => process.stdout.write(JSON.stringify(ok)));`;
  const out = execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', probe], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return JSON.parse(out) as boolean[];
}

test('":port" is dual stack, "0.0.0.0:port" IPv4 only, "[::]:port" IPv6 and IPv4', { skip }, async () => {
  const s = await startIsolated({
    SLUICE_API_LISTEN: ':8083',
    SLUICE_RTMP_LISTEN: '0.0.0.0:1935',
    SLUICE_HTTP_LISTEN: '[::]:8080',
  });
  // RTSP on its default `:5544`: dual stack too.
  assert.deepEqual(s.listen, {
    api: '[::]:8083',
    rtmp: '0.0.0.0:1935',
    http: '[::]:8080',
    rtsp: '[::]:5544',
  });
  const targets: [string, number][] = [
    ['127.0.0.1', 8083],
    ['::1', 8083],
    ['127.0.0.1', 1935],
    ['::1', 1935],
    ['127.0.0.1', 8080],
    ['::1', 8080],
  ];
  assert.deepEqual(reachable(s.pid, targets), [true, true, true, false, true, true]);
});

test('":port" still serves IPv4 where IPv6 is disabled', { skip }, async () => {
  const s = await startIsolated(
    { SLUICE_API_LISTEN: ':8083', SLUICE_RTMP_LISTEN: ':1935', SLUICE_HTTP_LISTEN: '127.0.0.1:8080' },
    'sysctl -qw net.ipv6.conf.all.disable_ipv6=1',
  );
  assert.deepEqual(
    reachable(s.pid, [
      ['127.0.0.1', 8083],
      ['127.0.0.1', 1935],
      ['::1', 8083],
    ]),
    [true, true, false],
  );
});
