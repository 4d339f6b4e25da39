import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpFlv } from './helpers/flv-client.ts';
import {
  capture,
  firstTimestampRegression,
  makeTestFlv,
  probe,
  publish,
  type Child,
} from './helpers/media.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

let server: SluiceProcess;
let media: string;
const children: Child[] = [];

before(async () => {
  media = await makeTestFlv({ durationS: 6, width: 640, height: 360, fps: 25, gop: 25 });
  server = await startSluice({ stream: { waitPublisherMs: 5000 } });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

test('a publisher that dies and comes back finds its viewers attached, timestamps still increasing', async () => {
  const key = 'live/phoenix';
  const out = join(mkdtempSync(join(tmpdir(), 'sluice-rc-')), 'rtmp.flv');
  const rtmpViewer = capture(`${server.rtmp}/${key}`, out, { seconds: 8 });
  const flv = httpFlv(`${server.http}/${key}.flv`);
  children.push(rtmpViewer);
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; subscribers: number }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.find((s) => s.key === key)?.subscribers === 2;
    },
    5000,
    'viewers waiting',
  );

  const first = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(first);
  await waitFor(() => flv.videoFrames().length >= 60, 8000, 'frames from the first publisher');
  await first.kill('SIGKILL');
  await sleep(1000);
  assert.equal(flv.closed, false, 'viewer still attached while the publisher is away');
  // Everything the first publisher sent has arrived by now; later frames are the second one's.
  const beforeSwitch = flv.videoFrames();
  const lastTsBefore = beforeSwitch[beforeSwitch.length - 1]!.tag.timestampMs;

  const second = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(second);
  await waitFor(
    () => flv.videoFrames().length >= beforeSwitch.length + 60,
    10_000,
    'frames from the second publisher',
  );

  const afterSwitch = flv.videoFrames().slice(beforeSwitch.length);
  assert.equal(afterSwitch[0]!.key, true, 'resumes on a key frame');
  assert.ok(
    afterSwitch[0]!.tag.timestampMs > lastTsBefore,
    `timeline continues: ${lastTsBefore} -> ${afterSwitch[0]!.tag.timestampMs}`,
  );
  assert.equal(flv.timestampRegression(), null, 'no timestamp ever goes back');
  assert.equal(flv.closed, false);
  flv.stop();

  assert.equal(await rtmpViewer.exited, 0, rtmpViewer.stderr());
  const p = await probe(out, { packets: true });
  assert.equal(firstTimestampRegression(p.packets), null, 'RTMP viewer timestamps never go back');
  const video = p.streams.find((s) => s.codec_type === 'video')!;
  const frames = p.packets.filter((x) => x.stream_index === video.index).length;
  // 8 s of timeline at 25 fps, minus what the switch gap skipped.
  assert.ok(frames >= 150, `RTMP viewer got ${frames} frames across both publishers`);
});
