import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestFlv, probe, publish, type Child } from './helpers/media.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { ccBreaks, httpBytes, tsPackets, wsBytes, type ByteCollector } from './helpers/ts-client.ts';

const run = promisify(execFile);
const SPEC = { durationS: 30, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };

let server: SluiceProcess;
let media: string;
const children: Child[] = [];
const clients: ByteCollector[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sluice-ts-'));

before(async () => {
  media = await makeTestFlv(SPEC);
  server = await startSluice({ stream: { waitPublisherMs: 1500 } });
});

after(async () => {
  for (const c of clients) c.stop();
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

/** Decodes a TS file with ffmpeg; returns what it printed at level error (nothing = clean). */
async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stderr.trim();
}

/** Whole packets only: a viewer stopped mid-packet leaves a partial one at the end. */
const whole = (b: Buffer): Buffer => b.subarray(0, b.length - (b.length % 188));

test('HTTP-TS and WebSocket-TS: PAT/PMT first, continuous counters, clean decode, A/V in sync, one muxing for all viewers', async () => {
  const key = 'live/ts1';
  const pub = publish(media, `${server.rtmp}/${key}`);
  children.push(pub);
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; publisher: unknown }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.some((s) => s.key === key && s.publisher);
    },
    10_000,
    'publisher up',
  );
  await sleep(1200);
  const first = httpBytes(`${server.http}/${key}.ts`);
  clients.push(first);
  await sleep(1500);
  const second = httpBytes(`${server.http}/${key}.ts`);
  const ws = wsBytes(`${server.ws}/${key}.ts`);
  clients.push(second, ws);
  await sleep(4000);
  const views = await getJson<{ streams: { key: string; viewers: { format: string }[] }[] }>(
    `${server.api}/api/v1/streams`,
  );
  const formats = views.streams.find((s) => s.key === key)?.viewers.map((v) => v.format);
  assert.deepEqual(formats, ['ts', 'ts', 'ts']);
  for (const c of [first, second, ws]) c.stop();
  assert.equal(first.status, 200);
  assert.match(first.contentType, /^video\/mp2t/);

  for (const [name, c] of [
    ['http-first', first],
    ['http-second', second],
    ['ws', ws],
  ] as const) {
    const bytes = whole(c.bytes());
    assert.ok(bytes.length > 100 * 188, `${name}: ${bytes.length} bytes`);
    const pkts = tsPackets(bytes);
    assert.equal(pkts[0]!.pid, 0, `${name}: starts with the PAT`);
    assert.equal(pkts[1]!.pid, 0x1000, `${name}: then the PMT`);
    assert.deepEqual(ccBreaks(pkts), [], `${name}: continuity counters`);
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, bytes);
    assert.equal(await decodeErrors(file), '', `${name}: decodes without errors`);
    const { streams, packets } = await probe(file, { packets: true });
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const firstPts = (type: string): number => {
      const idx = streams.find((s) => s.codec_type === type)!.index;
      return Number(packets.find((p) => p.stream_index === idx && p.pts_time !== undefined)!.pts_time);
    };
    const skew = Math.abs(firstPts('video') - firstPts('audio'));
    assert.ok(skew <= 0.1, `${name}: audio and video start ${skew.toFixed(3)} s apart`);
  }

  // Serialize once: the later viewer starts on the cached key frame (its PAT/PMT) and from there
  // gets exactly the first viewer's bytes.
  const a = whole(first.bytes());
  const b = whole(second.bytes());
  const preamble = 0;
  const probeBytes = b.subarray(preamble, preamble + 188 * 20);
  const at = a.indexOf(probeBytes);
  assert.ok(at > 0, "the second viewer joined inside the first one's byte stream");
  const overlap = Math.min(a.length - at, b.length - preamble);
  assert.ok(overlap > 50 * 188);
  assert.ok(a.subarray(at, at + overlap).equals(b.subarray(preamble, preamble + overlap)), 'identical bytes');
  await pub.kill();
});

test('HTTP-TS of a stream that never comes is a 404 once the wait is over', async () => {
  const c = httpBytes(`${server.http}/live/nobody.ts`);
  clients.push(c);
  await c.whenClosed();
  assert.equal(c.status, 404);
  const w = wsBytes(`${server.ws}/live/nobody.ts`);
  clients.push(w);
  await w.whenClosed();
  assert.equal(w.status, 404);
});
