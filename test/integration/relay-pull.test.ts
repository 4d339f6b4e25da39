import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { decodeWithFfmpeg } from './helpers/rtsp.ts';
import { startSluice, TEST_CONFIG, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// A is the source (ffmpeg publishes live/src to it); B pulls A with relay.pulls over RTMP,
// HTTP-FLV and RTSP, always-on and on-demand, plus one pull of a dead port that must give up.

const SPEC = { durationS: 10, width: 320, height: 240, fps: 25, gop: 25 };
const AUTO_STOP_MS = 2000;
const DEAD_RETRIES = 2;

let a: SluiceProcess;
let b: SluiceProcess;
const children: Child[] = [];

const logs = (p: SluiceProcess, msg: string, key: string): Record<string, unknown>[] =>
  p.logs.filter((l) => l.msg === msg && l.pull === key);

async function metric(p: SluiceProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${p.api}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

before(async () => {
  const media = await makeTestFlv(SPEC);
  a = await startSluice(TEST_CONFIG);
  children.push(publish(media, `${a.rtmp}/live/src`, { loop: true }));
  await waitFor(() => a.logs.some((l) => l.msg === 'publish started'), 10_000, 'the publish on A');
  const pull = (url: string, key: string, more: object = {}): object => ({
    url,
    key,
    timeoutMs: 3000,
    ...more,
  });
  const od = { mode: 'on-demand', autoStopAfterNoViewersMs: AUTO_STOP_MS };
  b = await startSluice({
    ...TEST_CONFIG,
    relay: {
      pulls: [
        pull(`${a.rtmp}/live/src`, 'live/rtmp-always'),
        pull(`${a.http}/live/src.flv`, 'live/flv-always'),
        pull(`${a.rtsp!}/live/src`, 'live/rtsp-always'),
        pull(`${a.rtmp}/live/src`, 'live/rtmp-od', od),
        pull(`${a.http}/live/src.flv`, 'live/flv-od', od),
        // Port 9 (discard) on loopback: nothing listens, every attempt is refused at once.
        pull('rtmp://127.0.0.1:9/live/nothing', 'live/dead', { retryNum: DEAD_RETRIES, timeoutMs: 1000 }),
      ],
    },
  });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await b?.stop();
  await a?.stop();
});

test('always-on pulls over RTMP, HTTP-FLV and RTSP decode on the puller', async () => {
  await waitFor(
    () =>
      logs(b, 'rtmp pull connected', 'live/rtmp-always').length > 0 &&
      logs(b, 'flv pull connected', 'live/flv-always').length > 0 &&
      logs(b, 'rtsp pull connected', 'live/rtsp-always').length > 0,
    15_000,
    'the always-on pulls connected',
  );
  const [rtmp, flv, rtsp] = await Promise.all([
    decodeWithFfmpeg(`${b.rtmp}/live/rtmp-always`, 3),
    decodeWithFfmpeg(`${b.http}/live/flv-always.flv`, 3),
    decodeWithFfmpeg(`${b.http}/live/rtsp-always.flv`, 3),
  ]);
  for (const [name, d] of [
    ['rtmp', rtmp],
    ['flv', flv],
    ['rtsp', rtsp],
  ] as const) {
    assert.equal(d.errors, '', `${name}: decode errors`);
    assert.ok(d.video >= 50, `${name}: ${d.video} frames decoded`);
  }
  // Each pull is a publisher session of its protocol (stats and events see it).
  assert.ok(
    b.logs.some(
      (l) => l.msg === 'relay pull started' && l.stream === 'live/rtmp-always' && l.origin === 'config',
    ),
  );
  assert.equal(await metric(b, 'sluice_source_pull_connects_total', 'proto="flv-pull"'), 1);
});

test('on-demand pulls start with the first viewer and stop after the last one plus the delay', async () => {
  // Nobody asked yet: never connected.
  assert.equal(logs(b, 'rtmp pull connected', 'live/rtmp-od').length, 0);
  assert.equal(logs(b, 'flv pull connected', 'live/flv-od').length, 0);
  const [rtmp, flv] = await Promise.all([
    decodeWithFfmpeg(`${b.rtmp}/live/rtmp-od`, 3),
    decodeWithFfmpeg(`${b.http}/live/flv-od.flv`, 3),
  ]);
  assert.equal(rtmp.errors, '');
  assert.equal(flv.errors, '');
  assert.ok(rtmp.video >= 50 && flv.video >= 50, `frames: rtmp ${rtmp.video}, flv ${flv.video}`);
  const leftAt = Date.now();
  await waitFor(
    () =>
      logs(b, 'rtmp pull stopped', 'live/rtmp-od').length > 0 &&
      logs(b, 'flv pull stopped', 'live/flv-od').length > 0,
    AUTO_STOP_MS + 5000,
    'the on-demand pulls stopped',
  );
  assert.ok(Date.now() - leftAt >= AUTO_STOP_MS - 500, 'not before the delay');
  assert.equal(logs(b, 'rtmp pull stopped', 'live/rtmp-od')[0]!.reason, 'no viewers');
  // The always-on ones go on.
  assert.equal(logs(b, 'rtmp pull stopped', 'live/rtmp-always').length, 0);
  // A second viewer starts it again.
  const again = await decodeWithFfmpeg(`${b.rtmp}/live/rtmp-od`, 2);
  assert.ok(again.video >= 25, `again: ${again.video} frames`);
  assert.equal(logs(b, 'rtmp pull connected', 'live/rtmp-od').length, 2);
});

test('a pull of a dead source gives up after its retries (logged, counted)', async () => {
  await waitFor(() => logs(b, 'rtmp pull gave up', 'live/dead').length > 0, 15_000, 'the dead pull gave up');
  assert.equal(logs(b, 'rtmp pull failed', 'live/dead').length, DEAD_RETRIES);
  assert.equal(logs(b, 'rtmp pull gave up', 'live/dead')[0]!.attempt, DEAD_RETRIES + 1);
  assert.equal(await metric(b, 'sluice_source_pulls_given_up_total', 'proto="rtmp-pull"'), 1);
  assert.equal(
    await metric(b, 'sluice_source_pull_failures_total', 'proto="rtmp-pull",code="ECONNREFUSED"'),
    3,
  );
});
