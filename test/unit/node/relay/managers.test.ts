import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../../libs/log/logger.ts';
import { Counters } from '../../../../libs/metrics/counters.ts';
import { StreamHub } from '../../../../libs/stream/index.ts';
import type { RelayInfo, RelayPullRequest } from '../../../../services/node/control-types.ts';
import { PublishGate } from '../../../../services/node/publish-gate.ts';
import { RelayPulls } from '../../../../services/node/relay/pull-manager.ts';
import { RelayPushes } from '../../../../services/node/relay/push-manager.ts';
import { makeTestFlv, publish, type Child } from '../../../integration/helpers/media.ts';
import {
  startSluice,
  TEST_CONFIG,
  waitFor,
  type SluiceProcess,
} from '../../../integration/helpers/sluice.ts';

// The control objects the HTTP API drives (RelayPullControl, RelayPushControl), on a real hub in
// this process, pulling from and pushing to a real Sluice child that ffmpeg publishes to.

let src: SluiceProcess;
let ffmpeg: Child;
const counters = new Counters();
const log = silentLogger();
const hub = new StreamHub(
  {
    gopCache: true,
    gopCacheMaxBytes: 8 << 20,
    waitPublisherMs: 5000,
    maxBufferedBytes: 4 << 20,
    stallTimeoutMs: 5000,
    writeCoalesceMs: 0,
  },
  { log, counters },
);
const gate = new PublishGate({ hooks: {}, counters, timeoutMs: 2000 });
const pulls = new RelayPulls([], { hub, gate, hooks: {}, counters, log });
const pushes = new RelayPushes([], { hub, counters, log });
hub.onViewersChanged = (s) => pulls.viewersChanged(s);
const seen: RelayInfo[] = [];
pulls.watch((i) => seen.push(i));

const req = (over: Partial<RelayPullRequest>): RelayPullRequest => ({
  url: `${src.rtmp}/live/src`,
  key: 'live/p',
  retryNum: 0,
  autoStopAfterNoViewersMs: -1,
  timeoutMs: 3000,
  rtspTransport: 'tcp',
  ...over,
});

before(async () => {
  const media = await makeTestFlv({ durationS: 5, width: 160, height: 120, fps: 25, gop: 25 });
  src = await startSluice(TEST_CONFIG);
  ffmpeg = publish(media, `${src.rtmp}/live/src`, { loop: true });
  await waitFor(() => src.logs.some((l) => l.msg === 'publish started'), 10_000, 'the source publish');
});

after(async () => {
  await pulls.stopAll();
  pushes.stopAll();
  hub.close();
  await ffmpeg?.kill();
  await src?.stop();
});

test('start, list, exists, busy, stop, not_found', async () => {
  const r = await pulls.start(req({}));
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.key, 'live/p');
  assert.equal(r.value.origin, 'api');
  await waitFor(() => (hub.get('live/p')?.framesIn ?? 0) > 50, 10_000, 'frames pulled');
  assert.equal(pulls.list()[0]?.state, 'running');
  assert.equal(pulls.list()[0]?.attempts, 1);
  const again = await pulls.start(req({}));
  assert.ok(!again.ok && again.code === 'exists');
  hub.getOrCreate('live/taken').attachPublisher('someone');
  const busy = await pulls.start(req({ key: 'live/taken' }));
  assert.ok(!busy.ok && busy.code === 'busy');
  const stopped = await pulls.stop('live/p');
  assert.ok(stopped.ok && stopped.value.state === 'stopped');
  assert.equal(hub.get('live/p')?.hasPublisher ?? false, false, 'the claim is given back');
  assert.deepEqual(pulls.list(), []);
  const missing = await pulls.stop('live/p');
  assert.ok(!missing.ok && missing.code === 'not_found');
  const states = seen.filter((i) => i.key === 'live/p').map((i) => i.state);
  assert.deepEqual(states, ['connecting', 'running', 'stopped']);
});

test('invalid requests are refused with reasons', async () => {
  for (const bad of [
    req({ key: 'nokey' }),
    req({ url: 'ftp://h/live/x' }),
    req({ url: 'rtmp://h/onlyapp' }),
    req({ retryNum: -2 }),
    req({ timeoutMs: 10 }),
    req({ autoStopAfterNoViewersMs: 1.5 }),
    req({ rtspTransport: 'sctp' as 'tcp' }),
  ]) {
    const r = await pulls.start(bad);
    assert.ok(!r.ok && r.code === 'invalid', JSON.stringify(bad));
  }
});

test('retryNum: a dead source is tried 1 + retryNum times, then the pull stops and is forgotten', async () => {
  const r = await pulls.start(req({ url: 'rtmp://127.0.0.1:9/live/x', key: 'live/dead', retryNum: 1 }));
  assert.ok(r.ok);
  await waitFor(() => seen.some((i) => i.key === 'live/dead' && i.state === 'stopped'), 10_000, 'gave up');
  const last = seen.filter((i) => i.key === 'live/dead').at(-1)!;
  assert.equal(last.attempts, 2);
  assert.match(last.lastError ?? '', /ECONNREFUSED/);
  assert.equal(counters.get('source_pulls_given_up', { proto: 'rtmp-pull' }), 1);
  assert.ok(!pulls.list().some((i) => i.key === 'live/dead'));
});

test('autoStopAfterNoViewersMs: a pull nobody watches stops after the delay; a viewer keeps it', async () => {
  const r = await pulls.start(req({ key: 'live/auto', autoStopAfterNoViewersMs: 300 }));
  assert.ok(r.ok);
  await waitFor(() => seen.some((i) => i.key === 'live/auto' && i.state === 'stopped'), 5000, 'auto-stopped');
  assert.equal(counters.get('source_pulls_auto_stopped'), 1);
});

test('pushes: start for a live key, exists, not_found, invalid, stop by id', async () => {
  assert.ok((await pulls.start(req({ key: 'live/pushed', retryNum: -1 }))).ok);
  await waitFor(() => hub.get('live/pushed')?.hasPublisher ?? false, 10_000, 'pulled');
  const r = await pushes.start({ key: 'live/pushed', url: `${src.rtmp}/back/secret-name` });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.url.endsWith('/back/***'), true, r.value.url);
  await waitFor(
    () => src.logs.some((l) => l.msg === 'publish started' && l.stream === 'back/secret-name'),
    10_000,
    'the push published on the source node',
  );
  assert.equal(pushes.list()[0]?.state, 'running');
  const dup = await pushes.start({ key: 'live/pushed', url: `${src.rtmp}/back/secret-name` });
  assert.ok(!dup.ok && dup.code === 'exists');
  const none = await pushes.start({ key: 'live/none', url: `${src.rtmp}/back/x` });
  assert.ok(!none.ok && none.code === 'not_found');
  const bad = await pushes.start({ key: 'live/pushed', url: 'http://h/app/x' });
  assert.ok(!bad.ok && bad.code === 'invalid');
  const stopped = await pushes.stop(r.value.id);
  assert.ok(stopped.ok && stopped.value.state === 'stopped');
  assert.deepEqual(pushes.list(), []);
  await waitFor(
    () => src.logs.some((l) => l.msg === 'publish ended' && l.stream === 'back/secret-name'),
    10_000,
    'the push ended on the source node',
  );
});
