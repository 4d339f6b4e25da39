import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { freePort, RtmpTestClient, portOf } from './helpers/net.ts';
import { getJson, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { cleanEnv, killCliProcs, LOOPBACK, runCli } from './helpers/cli.ts';

// The command line and configuration as an operator meets them: exit codes, messages that
// name the problem, environment overrides, signals, and `npm start`.

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));

const servers: SluiceProcess[] = [];
const children: Child[] = [];
const procs: ChildProcess[] = [];
/** Process groups we created (npm start); killed whole in after(). */
const groups: number[] = [];

after(async () => {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  killCliProcs();
  await Promise.all(children.map((c) => c.kill()));
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
});

function configFile(name: string, content: string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

test('a config with several mistakes is refused, naming every bad key', async () => {
  const file = configFile(
    'bad.json',
    JSON.stringify({
      colour: 'blue',
      rtmp: { listen: 1935 },
      viewer: { maxBufferedBytes: -1 },
      log: { level: 'loud' },
      limits: { handshakeTimeout: 5 },
    }),
  );
  // No SLUICE_RTMP_LISTEN here: it would replace the file's rtmp.listen (env wins, next test).
  const r = await runCli(['standalone', '--config', file], { ...LOOPBACK, SLUICE_RTMP_LISTEN: '' });
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  for (const key of [
    'colour',
    'rtmp.listen',
    'viewer.maxBufferedBytes',
    'log.level',
    'limits.handshakeTimeout',
  ]) {
    assert.ok(r.stderr.includes(key), `stderr does not name ${key}:\n${r.stderr}`);
  }
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing logged: the server never started');
});

test('the listen env override wins over a bad listen value in the file', async () => {
  // Documented precedence: env over file. Here the file's bad value never reaches validation.
  const file = configFile(
    'env-wins.json',
    JSON.stringify({ rtmp: { listen: 1935 }, log: { level: 'loud' } }),
  );
  const r = await runCli(['standalone', '--config', file], LOOPBACK);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes('log.level'), r.stderr);
  assert.ok(!r.stderr.includes('rtmp.listen'), r.stderr);
});

test('a config file that is not JSON, or is missing, is refused with a clear message', async (t) => {
  const cases = [
    {
      name: 'not JSON',
      file: configFile('broken.json', '{ "rtmp": { listen: ":1935" }'),
      message: /config file \S+broken\.json is not valid JSON/,
    },
    { name: 'a JSON array', file: configFile('array.json', '[1, 2]'), message: /must be a JSON object/ },
    {
      name: 'missing',
      file: join(dir, 'does-not-exist.json'),
      message: /cannot read config file \S+does-not-exist\.json/,
    },
  ];
  for (const k of cases) {
    await t.test(k.name, async () => {
      const r = await runCli(['standalone', '--config', k.file], LOOPBACK);
      assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, k.message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

test('rules across fields are checked by --check-config as at startup', async (t) => {
  const cases = [
    {
      name: 'hls.maxSegmentMs under targetMs',
      cfg: { hls: { targetMs: 4000, maxSegmentMs: 2000 } },
      message: /hls\.maxSegmentMs \(2000\) must be 0/,
    },
    {
      name: 'rtsp.udp range empty',
      cfg: { rtsp: { udp: { enabled: true, portMin: 31000, portMax: 31000 } } },
      message: /rtsp\.udp\.portMax \(31000\) must be above rtsp\.udp\.portMin/,
    },
  ];
  for (const k of cases) {
    const file = configFile(`${k.name.replace(/\W+/g, '-')}.json`, JSON.stringify(k.cfg));
    for (const extra of [['--check-config'], []]) {
      await t.test(`${k.name} ${extra.join(' ')}`.trim(), async () => {
        const r = await runCli(['standalone', '--config', file, ...extra], LOOPBACK);
        assert.equal(r.code, 1, `exit code; stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stderr, k.message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  }
});

test('a malformed listen address in the environment is refused, naming the variable', async () => {
  const r = await runCli(['standalone'], { ...LOOPBACK, SLUICE_HTTP_LISTEN: 'nonsense' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /SLUICE_HTTP_LISTEN/);
  assert.match(r.stderr, /nonsense/);
});

test('problems in the environment and in the file are reported together', async () => {
  const file = configFile('both.json', JSON.stringify({ log: { level: 'loud' } }));
  const r = await runCli(['standalone', '--config', file], { ...LOOPBACK, SLUICE_HTTP_LISTEN: 'nonsense' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SLUICE_HTTP_LISTEN/);
  assert.match(r.stderr, /log\.level/);
});

test('SLUICE_API_LISTEN and SLUICE_NODE_ID are honoured', async () => {
  const port = await freePort();
  const s = await startSluice(
    { log: { level: 'info' } },
    { SLUICE_API_LISTEN: `127.0.0.1:${port}`, SLUICE_NODE_ID: 'cli-node-7' },
  );
  servers.push(s);
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', node: 'cli-node-7' });
  assert.ok(s.logs.length > 0);
  for (const l of s.logs) assert.equal(l.node, 'cli-node-7', JSON.stringify(l));
  await s.stop();
});

test('usage, unknown roles, and cluster roles with bad cluster settings', async (t) => {
  const cases: {
    args: string[];
    code: number;
    out: RegExp;
    stdout?: boolean;
    env?: Record<string, string>;
  }[] = [
    { args: [], code: 2, out: /usage: sluice/ },
    { args: ['frobnicate'], code: 2, out: /unknown role "frobnicate"[\s\S]*usage: sluice/ },
    { args: ['origin'], code: 1, out: /cluster\.redisUrl/, env: { SLUICE_REDIS_URL: 'http://not-redis' } },
    {
      args: ['edge'],
      code: 1,
      out: /cluster\.redisUrl: host 2 of 2: port must be 1-65535/,
      env: { SLUICE_REDIS_URL: 'redis-cluster://127.0.0.1:7000,127.0.0.1:99999' },
    },
    {
      args: ['scheduler'],
      code: 1,
      out: /cluster\.redisUrl: needs the master name/,
      env: { SLUICE_REDIS_URL: 'redis-sentinel://127.0.0.1:26379' },
    },
    { args: ['edge'], code: 1, out: /cluster\.natsUrl/, env: { SLUICE_NATS_URL: 'bogus' } },
    { args: ['origin'], code: 1, out: /cluster\.relaySecret/, env: { SLUICE_RELAY_SECRET: 'short' } },
    { args: ['--help'], code: 0, out: /usage: sluice/, stdout: true },
    { args: ['standalone', '--no-such-flag'], code: 2, out: /no-such-flag[\s\S]*usage: sluice/ },
    { args: ['standalone', 'extra'], code: 2, out: /unexpected argument "extra"[\s\S]*usage: sluice/ },
    {
      args: ['origin'],
      code: 1,
      out: /cluster\.natsCaFile: cannot read[\s\S]*cluster\.redisUrl: needs the master name/,
      env: {
        SLUICE_NATS_URL: 'nats://127.0.0.1:4222',
        SLUICE_NATS_CA: '/nonexistent/ca.pem',
        SLUICE_REDIS_URL: 'redis-sentinel://h',
      },
    },
  ];
  // A role refused at startup is refused the same way by --check-config, which starts nothing.
  const withCheck = cases
    .filter((k) => k.code === 1)
    .map((k) => ({ ...k, args: [...k.args, '--check-config'] }));
  for (const k of [...cases, ...withCheck]) {
    await t.test(`sluice ${k.args.join(' ')} ${Object.keys(k.env ?? {}).join(' ')}`.trim(), async () => {
      const r = await runCli(k.args, { ...LOOPBACK, ...k.env });
      assert.equal(r.code, k.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(k.stdout ? r.stdout : r.stdout + r.stderr, k.out);
    });
  }
});

test('SIGTERM with a publisher and viewers exits 0 within 5 s and closes the viewers', async (t) => {
  const media = await makeTestFlv({
    durationS: 4,
    width: 320,
    height: 180,
    fps: 25,
    gop: 25,
    videoKbps: 300,
  });
  const s = await startSluice();
  servers.push(s);
  const pub = publish(media, `${s.rtmp}/live/term`, { loop: true });
  children.push(pub);
  const viewer = httpFlv(`${s.http}/live/term.flv`);
  const player = await RtmpTestClient.ready(portOf(s.rtmp));
  await player.connect('live');
  const sid = await player.createStream();
  player.command('play', null, ['term', -2000], sid);
  await waitFor(() => viewer.videoFrames().length >= 10, 10_000, 'the viewer to receive frames');
  await player.waitStatus('NetStream.Play.Start', 5000);

  const t0 = Date.now();
  const code = await s.stop('SIGTERM'); // the harness SIGKILLs after 5 s
  const tookMs = Date.now() - t0;
  t.diagnostic(`exited ${code} after ${tookMs} ms`);
  assert.equal(code, 0, `exit code after ${tookMs} ms`);
  assert.ok(tookMs < 5000, `took ${tookMs} ms`);
  await Promise.race([
    Promise.all([viewer.whenClosed(), player.conn.waitClosed(5000)]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('viewers still connected')), 5000)),
  ]);
  assert.ok(s.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  const pubCode = await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('running'), 5000))]);
  assert.notEqual(pubCode, 'running', 'the publisher was disconnected too');
});

test('a second server on the same RTMP port exits 1 with "cannot listen"', async () => {
  const first = await startSluice();
  servers.push(first);
  const r = await runCli(['standalone'], {
    ...LOOPBACK,
    SLUICE_RTMP_LISTEN: `127.0.0.1:${portOf(first.rtmp)}`,
  });
  assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /cannot listen/);
  assert.match(r.stderr, new RegExp(`EADDRINUSE.*${portOf(first.rtmp)}`));
  // The first server is unaffected.
  assert.equal((await getJson(`${first.api}/healthz`)).status, 'ok');
  await first.stop();
});

/** Pids whose parent chain reaches `root` (Linux /proc). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm start runs a standalone server, and SIGTERM stops it with nothing left behind', async () => {
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: cleanEnv({ ...LOOPBACK, SLUICE_NODE_ID: 'npm-start', npm_config_update_notifier: 'false' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so npm, sh and node can all be signalled
  });
  procs.push(npm);
  groups.push(npm.pid!);
  let stderr = '';
  npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
  const listen = await new Promise<Record<string, string>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`npm start did not listen in 20 s: ${stderr}`)), 20_000);
    createInterface({ input: npm.stdout }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.msg === 'sluice node listening') {
          clearTimeout(t);
          resolve(rec.listen as Record<string, string>);
        }
      } catch {
        // npm's own output
      }
    });
    void exited.then((code) => reject(new Error(`npm start exited ${code}: ${stderr}`)));
  });
  const api = `http://127.0.0.1:${listen.api!.slice(listen.api!.lastIndexOf(':') + 1)}`;
  const health = await getJson(`${api}/healthz`);
  assert.deepEqual(health, { status: 'ok', node: 'npm-start' });
  const tree = descendants(npm.pid!);
  assert.ok(tree.length >= 1, 'npm started a child');

  process.kill(-npm.pid!, 'SIGTERM');
  await Promise.race([
    exited,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('npm still running 5 s after SIGTERM')), 5000),
    ),
  ]);
  await waitFor(
    () => [npm.pid!, ...tree].every((p) => !alive(p)),
    5000,
    'every process of npm start to exit',
  );
  await assert.rejects(fetch(`${api}/healthz`), 'the API port is closed');
});
