import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from '../../libs/cluster/types.ts';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { makeTestFlv, publish } from './helpers/media.ts';
import { sleep, waitFor } from './helpers/sluice.ts';
import { ccBreaks, httpBytes, tsPackets } from './helpers/ts-client.ts';

// HLS and HTTP-TS through edges: every edge cuts the stream where the origin decided, with the
// same names and numbers, so two edges serve byte-identical segments; the scheduler's play
// redirects lead a player to an edge.

const run = promisify(execFile);
const SPEC = { durationS: 20, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const HLS = { targetMs: 2000, listSize: 5, sessionTimeoutMs: 5000 };
/** The origin keeps its HLS on disk (segment files are reported as record events); edges in memory. */
const originDir = mkdtempSync(join(tmpdir(), 'sluice-cluster-hls-'));

let cluster: Cluster;
let media: string;

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({
      origins: 1,
      edges: 2,
      scheduler: true,
      originConfig: { hls: { ...HLS, store: 'disk', dir: originDir } },
      edgeConfig: { hls: HLS },
    }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

/** A polling HLS player: follows the session redirect and keeps the playlist fresh. */
class Poller {
  url = '';
  text = '';
  private timer: NodeJS.Timeout | null = null;
  async start(url: string): Promise<void> {
    const r = await fetch(url);
    assert.equal(r.status, 200, `${url}: ${r.status}`);
    this.url = r.url;
    this.text = await r.text();
    this.timer = setInterval(() => {
      void fetch(this.url)
        .then(async (x) => {
          if (x.status === 200) this.text = await x.text();
        })
        .catch(() => undefined);
    }, 1000);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
  /** Segment URI -> media sequence number, from the latest playlist. */
  segments(): Map<string, number> {
    const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(this.text)?.[1] ?? NaN);
    const uris = this.text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
    return new Map(uris.map((u, i) => [u, seq + i]));
  }
}

test('two edges list the same segments with the same numbers and serve identical bytes', async () => {
  const key = 'live/hlsx';
  const [origin] = cluster.origins;
  const [edge1, edge2] = cluster.edges;
  const pub = publish(media, `${origin!.rtmp}/${key}`, { loop: true });
  cluster.track(pub);

  const p1 = new Poller();
  await p1.start(`${edge1!.http}/${key}.m3u8`);
  await sleep(3000);
  const p2 = new Poller();
  await p2.start(`${edge2!.http}/${key}.m3u8`);
  try {
    const common = await waitFor(
      () => {
        const a = p1.segments();
        const b = p2.segments();
        const both = [...a.keys()].filter((u) => b.has(u));
        return both.length >= 3 ? { a, b, both } : null;
      },
      30_000,
      'three segments listed by both edges',
    );
    for (const uri of common.both) {
      assert.equal(common.a.get(uri), common.b.get(uri), `${uri}: same media sequence number on both edges`);
      const [x, y] = await Promise.all(
        [p1.url, p2.url].map(async (u) => Buffer.from(await (await fetch(new URL(uri, u))).arrayBuffer())),
      );
      assert.ok(x!.length > 188 * 10, `${uri}: ${x!.length} bytes`);
      assert.ok(x!.equals(y!), `${uri}: byte-identical on both edges`);
      assert.deepEqual(ccBreaks(tsPackets(x!)), []);
    }
  } finally {
    p1.stop();
    p2.stop();
  }
});

test('HTTP-TS from an edge, and the scheduler redirects for .ts and .m3u8 played by ffmpeg', async () => {
  const key = 'live/hlsx';
  const edge = cluster.edges[0]!;
  const ts = httpBytes(`${edge.http}/${key}.ts`);
  await ts.waitBytes(188 * 500, 20_000);
  ts.stop();
  const bytes = ts.bytes().subarray(0, ts.bytes().length - (ts.bytes().length % 188));
  assert.deepEqual(ccBreaks(tsPackets(bytes)), []);

  for (const ext of ['ts', 'm3u8']) {
    const r = await fetch(`${cluster.scheduler!.url}/play/${key}.${ext}`, { redirect: 'manual' });
    assert.equal(r.status, 302, `/play/${key}.${ext}`);
    const { stderr } = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-v',
        'error',
        '-i',
        `${cluster.scheduler!.url}/play/${key}.${ext}`,
        '-t',
        '4',
        '-f',
        'null',
        '-',
      ],
      { timeout: 40_000 },
    );
    assert.equal(stderr.trim(), '', `ffmpeg plays /play/${key}.${ext} without errors`);
  }
});

test('the origin reports its HLS segment files on disk as record events (opened, then closed with their size)', async () => {
  const key = 'live/hlsx';
  const stopped = await cluster.events.waitFor(
    Subject.RecordStopped,
    (e) => e.key === key && e.format === 'hls',
    15_000,
  );
  const started = cluster.events
    .of(Subject.RecordStarted)
    .find((e) => e.key === key && e.format === 'hls' && e.path === stopped.path);
  assert.ok(started, 'a started event for the same segment file');
  assert.equal(stopped.nodeId, 'origin-1');
  assert.ok(stopped.path.startsWith(join(originDir, 'live', 'hlsx.hls') + '/'), stopped.path);
  assert.ok(stopped.durationMs >= 1900 && stopped.durationMs <= 3100, `${stopped.durationMs} ms`);
  await waitFor(() => existsSync(stopped.path), 5000, 'the segment written');
  assert.equal(statSync(stopped.path).size, stopped.bytes);
  const fromEdges = [
    ...cluster.events.of(Subject.RecordStarted),
    ...cluster.events.of(Subject.RecordStopped),
  ].filter((e) => e.nodeId !== 'origin-1');
  assert.deepEqual(fromEdges, [], 'edges keep HLS in memory: no files, no events');
});

test('after a publisher reconnect (a new epoch), an edge that went through it and one that joined later number the segments alike', async () => {
  const key = 'live/hlsre';
  const [origin] = cluster.origins;
  const [edge1, edge2] = cluster.edges;
  let pub = publish(media, `${origin!.rtmp}/${key}`, { loop: true });
  cluster.track(pub);
  const p1 = new Poller();
  await p1.start(`${edge1!.http}/${key}.m3u8`);
  const p2 = new Poller();
  try {
    await waitFor(() => p1.segments().size >= 2, 20_000, 'segments of the first publish on edge-1');
    const firstTimeline = [...p1.segments().keys()][0]!.split('/').pop()!.split('-')[0]!;
    // The encoder reconnects: a new claim, a new epoch, a new owner timeline.
    await pub.kill();
    pub = publish(media, `${origin!.rtmp}/${key}`, { loop: true });
    cluster.track(pub);
    const isNew = (u: string): boolean => !u.split('/').pop()!.startsWith(`${firstTimeline}-`);
    await waitFor(() => [...p1.segments().keys()].some(isNew), 30_000, 'edge-1 lists the new timeline');
    // Edge-2 never saw the first publish.
    await p2.start(`${edge2!.http}/${key}.m3u8`);
    const common = await waitFor(
      () => {
        const a = p1.segments();
        const b = p2.segments();
        const both = [...a.keys()].filter((u) => isNew(u) && b.has(u));
        return both.length >= 2 ? { a, b, both } : null;
      },
      30_000,
      'two new-timeline segments listed by both edges',
    );
    for (const uri of common.both) {
      assert.equal(common.a.get(uri), common.b.get(uri), `${uri}: same media sequence number on both edges`);
    }
  } finally {
    p1.stop();
    p2.stop();
    await pub.kill();
  }
});
