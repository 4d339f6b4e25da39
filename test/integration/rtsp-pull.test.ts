import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { decodeWithFfmpeg } from './helpers/rtsp.ts';
import { sleep, startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// Two standalone nodes: A is "the camera" (an RTMP publish played over RTSP with a Digest user),
// B pulls it with rtsp.pulls over TCP and UDP and serves it to HTTP-FLV and RTMP viewers.

const SPEC = { durationS: 10, width: 320, height: 240, fps: 25, gop: 25 };
const USER = 'cam';
const PASSWORD = 'p@ss word';
const ENCODED = encodeURIComponent(PASSWORD);
/** Short, so a dead source is noticed (no RTP) and retried within the test's time. */
const PULL_TIMEOUT_MS = 3000;

let a: SluiceProcess;
let b: SluiceProcess;
let media: string;
let camera: Child | null = null;
const children: Child[] = [];

function rtspPort(p: SluiceProcess): number {
  const line = p.logs.find((l) => l.msg === 'sluice node listening');
  const listen = (line?.listen ?? {}) as { rtsp?: string };
  return Number(listen.rtsp!.slice(listen.rtsp!.lastIndexOf(':') + 1));
}

function startCamera(): Child {
  const c = publish(media, `${a.rtmp}/live/cam`, { loop: true });
  children.push(c);
  return c;
}

const connects = (key: string): number =>
  b.logs.filter((l) => l.msg === 'rtsp pull connected' && l.pull === key).length;

async function metric(p: SluiceProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${p.api}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

before(async () => {
  media = await makeTestFlv(SPEC);
  a = await startSluice({
    ...TEST_CONFIG,
    rtsp: { auth: { methods: ['digest'], play: [{ username: USER, password: PASSWORD }] } },
  });
  camera = startCamera();
  const port = rtspPort(a);
  const url = (pw: string): string => `rtsp://${USER}:${pw}@127.0.0.1:${port}/live/cam`;
  b = await startSluice(
    {
      ...TEST_CONFIG,
      rtsp: {
        pulls: [
          { key: 'live/pull-tcp', url: url(ENCODED), transport: 'tcp', timeoutMs: PULL_TIMEOUT_MS },
          { key: 'live/pull-udp', url: url(ENCODED), transport: 'udp', timeoutMs: PULL_TIMEOUT_MS },
          { key: 'live/pull-bad', url: url('wrong'), transport: 'tcp', timeoutMs: PULL_TIMEOUT_MS },
        ],
      },
    },
    { SLUICE_DRAIN_TIMEOUT_MS: '20000' },
  );
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await b?.stop();
  await a?.stop();
});

test('B pulls A over TCP and UDP (Digest) and serves clean HTTP-FLV and RTMP', async () => {
  await waitFor(
    () => connects('live/pull-tcp') > 0 && connects('live/pull-udp') > 0,
    15_000,
    'both pulls connected',
  );
  const [flvTcp, rtmpUdp] = await Promise.all([
    decodeWithFfmpeg(`${b.http}/live/pull-tcp.flv`, 3),
    decodeWithFfmpeg(`${b.rtmp}/live/pull-udp`, 3),
  ]);
  for (const [name, d] of [
    ['tcp http-flv', flvTcp],
    ['udp rtmp', rtmpUdp],
  ] as const) {
    assert.equal(d.errors, '', `${name} decodes cleanly`);
    // 3 s at 25 fps, a GOP cache start and scheduling on a busy machine around it.
    assert.ok(d.video >= 60 && d.video <= 110, `${name}: ${d.video} video frames for 3 s`);
  }
  assert.ok((await metric(b, 'sluice_rtsp_pull_connects_total')) >= 2);
});

test('a killed source is pulled again once it is back', async (t) => {
  const before = connects('live/pull-tcp');
  await camera!.kill('SIGKILL');
  // Longer than the pull timeout: B notices the silence and starts reconnecting.
  await sleep(PULL_TIMEOUT_MS + 1500);
  camera = startCamera();
  await waitFor(() => connects('live/pull-tcp') > before, 30_000, 'the tcp pull reconnected');
  const d = await decodeWithFfmpeg(`${b.http}/live/pull-tcp.flv`, 2);
  assert.equal(d.errors, '', 'decodes cleanly after the reconnect');
  assert.ok(d.video >= 35, `${d.video} video frames for 2 s`);
  const failed = b.logs.filter((l) => l.msg === 'rtsp pull failed' && l.pull === 'live/pull-tcp');
  assert.ok(failed.length > 0, 'the failure was logged');
  t.diagnostic(`failures before the reconnect: ${failed.map((l) => String(l.code)).join(', ')}`);
});

test('a wrong password is an auth failure, logged and counted; B goes on', async () => {
  await waitFor(
    () => b.logs.some((l) => l.msg === 'rtsp pull failed: credentials refused' && l.pull === 'live/pull-bad'),
    15_000,
    'auth failure logged',
  );
  assert.ok((await metric(b, 'sluice_rtsp_pull_failures_total', 'code="RTSP_AUTH_FAILED"')) >= 1);
  assert.equal(b.proc.exitCode, null, 'B is still running');
  assert.equal(connects('live/pull-bad'), 0);
  // Passwords never reach the logs; the user does (user:***).
  const logged = JSON.stringify(b.logs);
  for (const secret of [PASSWORD, ENCODED, 'wrong@'])
    assert.ok(!logged.includes(secret), `${secret} not logged`);
  assert.ok(logged.includes(`${USER}:***@`));
});

test("SIGTERM: the drain does not wait for the node's own pulls (no clients left), it stops them", async () => {
  await waitFor(() => connects('live/pull-tcp') > 0, 10_000, 'pulling');
  const t0 = performance.now();
  const code = await b.stop('SIGTERM');
  const tookMs = performance.now() - t0;
  assert.equal(code, 0);
  // drain.timeoutMs is 20 s here: a drain that counted the pulls as clients would wait it out.
  assert.ok(tookMs < 8000, `stopped in ${Math.round(tookMs)} ms`);
  assert.ok(
    b.logs.some((l) => l.msg === 'rtsp pull stopped' && l.pull === 'live/pull-tcp'),
    'pull stopped',
  );
});
