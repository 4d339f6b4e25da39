import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { getJson, rssBytes, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

const BUDGET = 256 * 1024;
let server: SluiceProcess;
let media: string;
const children: Child[] = [];
const sockets: Socket[] = [];

before(async () => {
  media = await makeTestFlv({ durationS: 6, width: 640, height: 360, fps: 25, gop: 25, videoKbps: 2000 });
  server = await startSluice({
    viewer: { maxBufferedBytes: BUDGET, stallTimeoutMs: 3000 },
    stream: { waitPublisherMs: 5000 },
  });
});

after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

interface Viewer {
  id: string;
  bufferedBytes: number;
  droppedFrames: number;
}
interface StreamList {
  streams: { key: string; subscribers: number; viewers: Viewer[] }[];
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.api}/metrics`)).text();
  const m = new RegExp(`^sluice_${name}_total(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('a viewer that stops reading is dropped; the other viewer and the server memory are unaffected', async (t) => {
  const key = 'live/slow';
  const pub = publish(media, `${server.rtmp}/${key}`, { loop: true });
  children.push(pub);
  const fast = httpFlv(`${server.http}/${key}.flv`);
  await waitFor(() => fast.videoFrames().length >= 25, 8000, 'fast viewer receiving');
  await sleep(1000);
  const rssBefore = rssBytes(server.pid);

  // The slow viewer sends its request and never reads a byte.
  const slow = connect(Number(new URL(server.http).port), '127.0.0.1');
  sockets.push(slow);
  slow.pause();
  slow.write(`GET /${key}.flv HTTP/1.1\r\nHost: x\r\n\r\n`);

  const fastFramesAtStart = fast.videoFrames().length;
  const t0 = Date.now();
  let maxSlowBuffered = 0;
  let maxRss = rssBefore;
  let sawSlow = false;
  let droppedSeen = 0;
  await waitFor(
    async () => {
      const j = await getJson<StreamList>(`${server.api}/api/v1/streams`);
      const s = j.streams.find((x) => x.key === key)!;
      const others = s.viewers.filter((v) => v.bufferedBytes > 0 || v.droppedFrames > 0);
      for (const v of others) {
        maxSlowBuffered = Math.max(maxSlowBuffered, v.bufferedBytes);
        droppedSeen = Math.max(droppedSeen, v.droppedFrames);
      }
      if (s.subscribers === 2) sawSlow = true;
      maxRss = Math.max(maxRss, rssBytes(server.pid));
      return sawSlow && s.subscribers === 1;
    },
    30_000,
    'the slow viewer to be disconnected',
  );
  const elapsedS = (Date.now() - t0) / 1000;
  t.diagnostic(
    `stalled after ${elapsedS.toFixed(1)} s; slow viewer max queued ${maxSlowBuffered} B, dropped ${droppedSeen} frames; RSS ${(rssBefore / 1048576).toFixed(1)} -> ${(maxRss / 1048576).toFixed(1)} MB`,
  );

  assert.equal(await metric('viewer_stalled_disconnects'), 1, 'counted as stalled');
  assert.ok((await metric('viewer_dropped_frames')) > 0, 'frames were dropped for it first');
  assert.ok(droppedSeen > 0);
  // Its queue never grew past the budget plus the one message that crossed it.
  assert.ok(
    maxSlowBuffered <= BUDGET + 256 * 1024,
    `slow viewer queued ${maxSlowBuffered} bytes, budget ${BUDGET}`,
  );
  const growth = maxRss - rssBefore;
  assert.ok(growth < 40 * 1024 * 1024, `server RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  assert.ok(
    server.logs.some((l) => l.msg === 'viewer stalled, disconnecting'),
    'logged',
  );

  // Meanwhile the fast viewer kept getting frames in real time (25 fps).
  const got = fast.videoFrames().length - fastFramesAtStart;
  assert.ok(got >= elapsedS * 25 * 0.85, `fast viewer got ${got} frames in ${elapsedS.toFixed(1)} s`);
  const arrivals = fast
    .videoFrames()
    .slice(fastFramesAtStart)
    .map((f) => f.tag.atMs);
  const worstGap = Math.max(...arrivals.slice(1).map((t, i) => t - arrivals[i]!));
  assert.ok(worstGap < 1000, `fast viewer stalled for ${worstGap} ms`);
  assert.equal(fast.closed, false);
  fast.stop();
});
