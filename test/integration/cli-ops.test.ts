import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killCliProcs, LOOPBACK, runCli, cleanEnv } from './helpers/cli.ts';
import { SLUICE_BIN } from './helpers/build.ts';
import { startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// What operators and deployment tooling use besides running a role: --version, --check-config
// (a Helm test feeds it a rendered config plus the pod's env), --help, the start line, listen
// addresses refused before any bind, bind failures that name their key, logs on a terminal.

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-ops-'));
const servers: SluiceProcess[] = [];
const sockets: Server[] = [];

after(async () => {
  killCliProcs();
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  for (const s of sockets) s.close();
});

const configFile = (name: string, content: unknown): string => {
  const f = join(dir, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};
const noStack = (text: string): void => assert.doesNotMatch(text, /\n\s+at /, `a stack trace:\n${text}`);
const ROLES = ['standalone', 'origin', 'edge', 'scheduler'] as const;

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['-v']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `sluice ${pkg.version}\n`);
  }
});

test('--check-config accepts valid configs with one line and starts nothing', async (t) => {
  // Something already listens on the port the config names: a check that bound would fail.
  const busy = createServer();
  sockets.push(busy);
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyListen = `127.0.0.1:${(busy.address() as { port: number }).port}`;
  for (const role of ROLES) {
    await t.test(`${role}: defaults, the shipped conf file, a rendered file plus env`, async () => {
      const listenEnv =
        role === 'scheduler' ? { SLUICE_SCHEDULER_LISTEN: busyListen } : { SLUICE_RTMP_LISTEN: busyListen };
      const defaults = await runCli([role, '--check-config'], listenEnv);
      assert.equal(defaults.code, 0, defaults.stderr);
      assert.equal(defaults.stdout, `sluice: ${role} config OK (defaults)\n`);
      assert.equal(defaults.stderr, '');

      const shipped = join(ROOT, `conf/${role}.json`); // carries "$schema"
      const r = await runCli([role, '--config', shipped, '--check-config'], listenEnv);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stdout);

      // As a Helm chart or compose file would hand it over: a config file, secrets and
      // per-pod values in the environment.
      const rendered = configFile(`${role}-rendered.json`, {
        $schema: `./${role}.schema.json`,
        log: { level: 'warn', format: 'json' },
        ...(role === 'scheduler'
          ? { listen: ':8090' }
          : { rtmp: { listen: ':1935' }, api: { listen: '[::]:8083' } }),
      });
      const env: Record<string, string> =
        role === 'standalone'
          ? { SLUICE_NODE_ID: 'pod-0' }
          : {
              SLUICE_NODE_ID: 'pod-0',
              SLUICE_REDIS_URL: 'redis://:pa%40ss@redis.sluice.svc:6379/0',
              SLUICE_NATS_URL: 'nats://nats.sluice.svc:4222',
              ...(role === 'scheduler' ? {} : { SLUICE_RELAY_SECRET: 'from-a-kubernetes-secret' }),
            };
      const fromRendered = await runCli([role, '-c', rendered, '--check-config'], env);
      assert.equal(fromRendered.code, 0, fromRendered.stderr);
      assert.match(
        fromRendered.stdout,
        new RegExp(`^sluice: ${role} config OK \\(\\S+${role}-rendered\\.json\\)\\n$`),
      );
    });
  }
});

test('--check-config reports every problem, naming keys and variables, on stderr', async () => {
  const file = configFile('many.json', {
    log: { level: 'loud', format: 'fancy' },
    rtmp: { listen: '127.0.0.1:99999' },
    cluster: { heartbeatMs: 5 },
  });
  const r = await runCli(['edge', '--config', file, '--check-config'], {
    SLUICE_HTTP_LISTEN: ':65536',
    SLUICE_API_LISTEN: '[::1]8083',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  noStack(r.stderr);
  for (const want of [
    /log\.level: "loud" is not one of "trace", .*"silent"/,
    /log\.format: "fancy" is not one of "auto", "json", "pretty"/,
    /rtmp\.listen: "127\.0\.0\.1:99999" is not host:port, :port or \[v6\]:port with a port 1-65535/,
    /http\.listen: invalid listen address ":65536".* \(from SLUICE_HTTP_LISTEN\)/,
    /api\.listen: invalid listen address "\[::1\]8083".* \(from SLUICE_API_LISTEN\)/,
    /cluster\.heartbeatMs: must be >= 200/,
  ]) {
    assert.match(r.stderr, want);
  }
  const viaEnv = await runCli(['scheduler', '--check-config'], { SLUICE_LOG_LEVEL: 'chatty' });
  assert.equal(viaEnv.code, 1);
  assert.match(viaEnv.stderr, /log\.level: "chatty" is not one of .* \(from SLUICE_LOG_LEVEL\)/);
});

test('a port out of range in a config file exits 1 naming the key, never a stack trace at bind', async (t) => {
  const cases = [
    { role: 'standalone', cfg: { rtmp: { listen: '127.0.0.1:99999' } }, key: 'rtmp.listen' },
    { role: 'edge', cfg: { http: { listen: ':65536' } }, key: 'http.listen' },
    { role: 'scheduler', cfg: { listen: '[::]:70000' }, key: 'listen' },
  ];
  for (const k of cases) {
    await t.test(`${k.role} ${k.key}`, async () => {
      const env =
        k.role === 'scheduler'
          ? {}
          : { ...LOOPBACK, [`SLUICE_${k.key.split('.')[0]!.toUpperCase()}_LISTEN`]: '' };
      const r = await runCli([k.role, '--config', configFile(`${k.role}-port.json`, k.cfg)], env);
      assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^  ${k.key.replace('.', '\\.')}: ".*" is not host:port`, 'm'));
      noStack(r.stderr);
    });
  }
});

test('a listen address that cannot be bound exits 1 naming the key and the cause', async (t) => {
  // 192.0.2.1 (TEST-NET-1) is no address of this machine: bind fails with EADDRNOTAVAIL, and
  // no packet is ever sent.
  await t.test('standalone rtmp.listen', async () => {
    const r = await runCli(['standalone'], { ...LOOPBACK, SLUICE_RTMP_LISTEN: '192.0.2.1:1935' });
    assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^sluice: cannot listen on 192\.0\.2\.1:1935 \(rtmp\.listen\): listen EADDRNOTAVAIL/,
    );
    noStack(r.stderr);
  });
  await t.test('scheduler listen', async () => {
    const r = await runCli(['scheduler'], {
      SLUICE_SCHEDULER_LISTEN: '192.0.2.1:8090',
      SLUICE_REDIS_URL: 'redis://127.0.0.1:1',
    });
    assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /^sluice: cannot listen on 192\.0\.2\.1:8090 \(listen\): listen EADDRNOTAVAIL/);
    noStack(r.stderr);
  });
});

/** Every `SLUICE_…` name in the program's sources. */
function envNamesInSources(): Set<string> {
  const names = new Set<string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/\bSLUICE_[A-Z0-9_]+/g)) names.add(m[0]);
    }
  };
  walk(join(ROOT, 'libs'));
  walk(join(ROOT, 'services'));
  return names;
}

test('--help lists every environment variable the program reads', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  const names = envNamesInSources();
  assert.ok(names.size >= 15, `found only ${[...names].join(', ')}`);
  for (const name of names)
    assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), `--help lacks ${name}`);
  assert.match(r.stdout, /^ {2}SLUICE_REDIS_URL +cluster\.redisUrl +origin, edge, scheduler$/m);
});

test('the first log line names version, role and Node.js; logs are JSON when stdout is not a terminal', async () => {
  const s = await startSluice();
  servers.push(s);
  const first = s.logs[0]!;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(first.msg, 'sluice starting');
  assert.equal(first.version, pkg.version);
  assert.equal(first.role, 'standalone');
  assert.equal(first.nodejs, process.version);
  assert.equal(first.node, 'test-node');
  await s.stop();
});

/**
 * Runs `sluice standalone` on a pseudo-terminal (util-linux `script`) until its listening line,
 * then stops it; resolves with what the terminal showed.
 */
function onTerminal(env: Record<string, string>): Promise<string> {
  const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(SLUICE_BIN)} standalone`;
  const p = spawn('script', ['-qfec', cmd, '/dev/null'], {
    env: cleanEnv({ ...LOOPBACK, SLUICE_NODE_ID: 'tty-node', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return waitFor(() => out.includes('sluice node listening'), 20_000, 'the listening line on the terminal')
    .then(() => out)
    .finally(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    });
}

test('on a terminal, logs are human-readable (pino-pretty, a dev dependency); SLUICE_LOG_FORMAT=json keeps JSON', async () => {
  // eslint-disable-next-line no-control-regex
  const pretty = (await onTerminal({})).replace(/\x1b\[[0-9;]*m/g, ''); // colours off
  const lines = pretty.split(/\r?\n/).filter(Boolean);
  assert.ok(lines.length >= 2, pretty);
  for (const l of lines) assert.doesNotMatch(l, /^\{/, `a JSON line on the terminal: ${l}`);
  assert.match(pretty, /INFO.*sluice starting/);
  assert.match(pretty, /version: "\d+\.\d+\.\d+"/);
  const json = await onTerminal({ SLUICE_LOG_FORMAT: 'json' });
  const first = JSON.parse(json.split(/\r?\n/)[0]!) as Record<string, unknown>;
  assert.equal(first.msg, 'sluice starting');
});
