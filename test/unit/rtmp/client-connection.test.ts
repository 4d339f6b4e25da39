import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAmf0, encodeAmf0 } from '../../../libs/amf/index.ts';
import { FlvReader, parseVideoTag } from '../../../libs/flv/index.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { RtmpClient, RtmpClientError } from '../../../libs/rtmp/client-connection.ts';
import { parseRtmpUrl } from '../../../libs/rtmp/client-url.ts';
import { ChunkReader } from '../../../libs/rtmp/chunk-reader.ts';
import { parseCommand } from '../../../libs/rtmp/commands.ts';
import { findDigest, HANDSHAKE_PACKET_SIZE, HandshakeKey } from '../../../libs/rtmp/handshake-digest.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import type { RtmpMessage } from '../../../libs/rtmp/message-types.ts';
import { MediaNode } from '../../../services/node/media-node.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';

const HAVE_FFMPEG =
  spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;

describe('parseRtmpUrl', () => {
  const cases = [
    {
      url: 'rtmp://example.com/live/cam1',
      want: {
        host: 'example.com',
        port: 1935,
        app: 'live',
        streamName: 'cam1',
        tcUrl: 'rtmp://example.com:1935/live',
      },
    },
    {
      url: 'rtmp://127.0.0.1:19350/live/cam1?token=abc&x=1',
      want: {
        host: '127.0.0.1',
        port: 19350,
        app: 'live',
        streamName: 'cam1?token=abc&x=1',
        query: '?token=abc&x=1',
      },
    },
    { url: 'rtmp://h/a/b/c/name', want: { app: 'a/b/c', streamName: 'name', tcUrl: 'rtmp://h:1935/a/b/c' } },
    { url: 'rtmp://[::1]:1936/live/x', want: { host: '::1', port: 1936, tcUrl: 'rtmp://[::1]:1936/live' } },
  ];
  for (const c of cases) {
    test(c.url, () => {
      const got = parseRtmpUrl(c.url);
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k as keyof typeof got], v, k);
    });
  }
  for (const bad of ['http://h/live/x', 'rtmp://h/live', 'rtmp:///live/x', 'not a url', 'rtmp://h/']) {
    test(`rejects ${bad}`, () => {
      assert.throws(
        () => parseRtmpUrl(bad),
        (e: unknown) => e instanceof ProtocolError && e.code === 'RTMP_BAD_URL',
      );
    });
  }
});

/** Waits for `cond` (polled), failing after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects with the client error's code (for assert.rejects). */
const hasCode = (code: string) => (e: unknown) => e instanceof RtmpClientError && e.code === code;

// Hand-built FLV tag bodies (FLV spec v10 §E.4.2/§E.4.3): content is opaque to the server.
const AVC_SEQ = Buffer.from('1700000000' + '0142c01effe1000a6742c01ed900a047fec801000468ce3c80', 'hex');
const avcFrame = (key: boolean, n: number): Buffer =>
  Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0x28]), Buffer.alloc(4 + n, n & 0xff)]);
const AAC_SEQ = Buffer.from('af001210', 'hex');
const aacRaw = (n: number): Buffer => Buffer.concat([Buffer.from([0xaf, 1]), Buffer.alloc(n, 0x5a)]);

describe('RtmpClient against an in-process Sluice node', { timeout: 60_000 }, () => {
  let node: MediaNode;
  let base = '';
  const clients: RtmpClient[] = [];
  const children: ChildProcess[] = [];
  let tmp = '';

  const open = async (path: string, opts = {}): Promise<RtmpClient> => {
    const c = await RtmpClient.connect(`${base}/${path}`, { timeoutMs: 5000, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    const cfg = loadStandaloneConfig(undefined, {
      SLUICE_RTMP_LISTEN: '127.0.0.1:0',
      SLUICE_HTTP_LISTEN: '127.0.0.1:0',
      SLUICE_RTSP_LISTEN: '127.0.0.1:0',
      SLUICE_API_LISTEN: '127.0.0.1:0',
    });
    cfg.stream.waitPublisherMs = 300;
    node = new MediaNode(cfg, silentLogger());
    const addrs = await node.start();
    base = `rtmp://${addrs.rtmp}`;
    tmp = mkdtempSync(join(tmpdir(), 'sluice-client-'));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const p of children) p.kill('SIGKILL');
    await node.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('publish and play: identical payloads and timestamps, GOP cache included', async () => {
    const pub = await open('live/roundtrip');
    assert.equal(pub.app, 'live');
    assert.equal(pub.streamName, 'roundtrip');
    await pub.publish();
    assert.ok(pub.streamId > 0);

    const meta = encodeAmf0(['@setDataFrame', 'onMetaData', { width: 320, height: 240, videocodecid: 7 }]);
    pub.sendMedia(18, 0, meta);
    const sent: [number, number, Buffer][] = [
      [9, 0, AVC_SEQ],
      [8, 0, AAC_SEQ],
      [9, 0, avcFrame(true, 3000)],
      [8, 10, aacRaw(200)],
      [9, 40, avcFrame(false, 700)],
      [8, 33, aacRaw(180)], // audio may run behind video: order is kept, not sorted
      [9, 80, avcFrame(false, 9000)], // spans several 4096-byte chunks
    ];
    for (const [t, ts, p] of sent) pub.sendMedia(t as 8 | 9, ts, p);
    await until(
      () => (node.hub.get('live/roundtrip')?.framesIn ?? 0) >= sent.length + 1,
      3000,
      'frames at server',
    );

    const player = await open('live/roundtrip');
    const got: RtmpMessage[] = [];
    const statuses: string[] = [];
    player.onMedia = (m) => got.push(m);
    player.onStatus = (info) => statuses.push(typeof info.code === 'string' ? info.code : '?');
    await player.play();
    assert.deepEqual(statuses, ['NetStream.Play.Reset', 'NetStream.Play.Start']);

    // Live frames after the player joined, with a large timestamp (extended timestamp on the wire).
    const live: [number, number, Buffer][] = [
      [9, 120, avcFrame(false, 50)],
      [9, 0x1000010, avcFrame(true, 5000)],
      [8, 0x1000020, aacRaw(100)],
    ];
    for (const [t, ts, p] of live) pub.sendMedia(t as 8 | 9, ts, p);
    const want = [...sent, ...live];
    await until(() => got.filter((m) => m.typeId !== 18).length >= want.length, 3000, 'media at player');

    const av = got.filter((m) => m.typeId === 8 || m.typeId === 9);
    assert.deepEqual(
      av.map((m) => [m.typeId, m.timestamp, m.payload.toString('hex')]),
      want.map(([t, ts, p]) => [t, ts, p.toString('hex')]),
    );
    const data = got.filter((m) => m.typeId === 18).map((m) => decodeAmf0(m.payload));
    assert.ok(
      data.some((v) => v[0] === 'onMetaData' && (v[1] as { width?: number }).width === 320),
      'onMetaData without @setDataFrame',
    );
    assert.ok(player.bytesIn > 9000 + 3000 + 5000);

    // The publisher leaving ends the play after waitPublisherMs with UnpublishNotify.
    const closed = new Promise<Error | null>((r) => (player.onClose = r));
    pub.close();
    assert.equal(await closed, null);
    assert.ok(statuses.includes('NetStream.Play.UnpublishNotify'), statuses.join());
  });

  test('a second publisher of the same stream is rejected with NetStream.Publish.BadName', async () => {
    const first = await open('live/dup');
    await first.publish();
    const second = await open('live/dup');
    await assert.rejects(second.publish(), hasCode('NetStream.Publish.BadName'));
    first.close();
  });

  test('playing a missing stream rejects with NetStream.Play.StreamNotFound', async () => {
    const player = await open('live/missing');
    const t0 = Date.now();
    await assert.rejects(player.play(), hasCode('NetStream.Play.StreamNotFound'));
    assert.ok(Date.now() - t0 < 3000);
  });

  test('publish and play on a closed connection reject', async () => {
    const c = await open('live/closed');
    c.close();
    await assert.rejects(c.publish(), hasCode('RTMP_CLOSED'));
  });

  test('connect to a closed port rejects promptly', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    const t0 = Date.now();
    await assert.rejects(
      RtmpClient.connect(`rtmp://127.0.0.1:${port}/live/x`),
      hasSocketCode('ECONNREFUSED'),
    );
    assert.ok(Date.now() - t0 < 1000);
  });

  test('a server that never answers the handshake times out with RTMP_TIMEOUT', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const t0 = Date.now();
      await assert.rejects(
        RtmpClient.connect(`rtmp://127.0.0.1:${port}/live/x`, { timeoutMs: 300 }),
        hasCode('RTMP_TIMEOUT'),
      );
      assert.ok(Date.now() - t0 < 1500);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('complex handshake and connectArgs: what goes on the wire, and the server accepts it', async () => {
    // A recording proxy in front of the node keeps every byte the client sends.
    const sent: Buffer[] = [];
    const target = new URL(base);
    const proxy = createServer((inbound) => {
      const outbound = connect(Number(target.port), target.hostname);
      inbound.on('data', (d: Buffer) => {
        sent.push(d);
        outbound.write(d);
      });
      outbound.on('data', (d: Buffer) => inbound.write(d));
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const { port } = proxy.address() as AddressInfo;
      const c = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live/complex`, {
        timeoutMs: 5000,
        complexHandshake: true,
        connectArgs: { relayToken: 'x' },
      });
      clients.push(c);
      await c.publish();
      c.close();
      const bytes = Buffer.concat(sent);
      assert.equal(bytes[0], 3, 'C0: RTMP version 3');
      const c1 = bytes.subarray(1, 1 + HANDSHAKE_PACKET_SIZE);
      assert.ok(findDigest(c1, HandshakeKey.player), 'C1 carries a valid player digest');
      const reader = new ChunkReader();
      const commands = reader
        .push(bytes.subarray(1 + 2 * HANDSHAKE_PACKET_SIZE))
        .filter((m) => m.typeId === 20)
        .map((m) => parseCommand(m));
      const connectCmd = commands.find((x) => x.name === 'connect');
      const obj = connectCmd?.commandObject as Record<string, unknown> | undefined;
      assert.equal(obj?.relayToken, 'x', 'connectArgs are in the connect command object');
      assert.equal(obj?.app, 'live');
      assert.ok(commands.some((x) => x.name === 'publish' && x.args[0] === 'complex'));
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  test(
    'ffmpeg publishes, RtmpClient plays: first video after the sequence header is a key frame',
    {
      skip: !HAVE_FFMPEG && 'ffmpeg not installed',
      timeout: 20_000,
    },
    async () => {
      const ff = spawn(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25',
          '-f',
          'lavfi',
          '-i',
          'sine',
          '-t',
          '3',
          '-c:v',
          'libx264',
          '-g',
          '25',
          '-c:a',
          'aac',
          '-f',
          'flv',
          `${base}/live/ffpub`,
        ],
        { stdio: 'ignore' },
      );
      children.push(ff);
      await until(() => node.hub.get('live/ffpub')?.hasPublisher === true, 10_000, 'ffmpeg publish');
      // Join mid-stream, a little after the first GOP started, so the GOP cache is exercised.
      await sleep(500);
      const player = await open('live/ffpub');
      const video: RtmpMessage[] = [];
      let audio = 0;
      player.onMedia = (m) => {
        if (m.typeId === 9) video.push(m);
        if (m.typeId === 8) audio++;
      };
      await player.play();
      await until(() => video.length >= 5 && audio >= 5, 5000, 'media from ffmpeg');
      const first = parseVideoTag(video[0]!.payload);
      assert.equal(first.isSequenceHeader, true);
      const next = parseVideoTag(video[1]!.payload);
      assert.equal(next.isSequenceHeader, false);
      assert.equal(next.isKeyFrame, true);
      player.close();
      ff.kill('SIGKILL');
    },
  );

  test(
    'RtmpClient publishes an ffmpeg-made FLV, ffprobe reads h264/aac from the server',
    {
      skip: !HAVE_FFMPEG && 'ffmpeg not installed',
      timeout: 30_000,
    },
    async () => {
      const file = join(tmp, 'small.flv');
      const made = spawnSync(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-y',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=160x120:rate=25',
          '-f',
          'lavfi',
          '-i',
          'sine',
          '-t',
          '2',
          '-c:v',
          'libx264',
          '-g',
          '25',
          '-c:a',
          'aac',
          '-f',
          'flv',
          file,
        ],
        { timeout: 15_000 },
      );
      assert.equal(made.status, 0, String(made.stderr));
      const tags = new FlvReader().push(readFileSync(file));
      assert.ok(tags.length > 50);
      const durationMs = tags[tags.length - 1]!.timestampMs + 40;

      const pub = await open('live/probe');
      await pub.publish();
      const meta = tags.find((t) => t.type === 18);
      if (meta) pub.sendMedia(18, 0, encodeAmf0(['@setDataFrame', ...decodeAmf0(meta.body)]));

      const probe = spawn('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', `${base}/live/probe`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(probe);
      let out = '';
      probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => probe.on('exit', (code) => r(code)));
      let done = false;
      void exited.then(() => (done = true));

      // Real-time pacing, looping the file with a timestamp offset until ffprobe is satisfied.
      const t0 = Date.now();
      for (let loop = 0; !done && loop < 10; loop++) {
        for (const tag of tags) {
          if (done) break;
          if (tag.type === 18) continue;
          const isHeader = (tag.type === 9 && tag.body[1] === 0) || (tag.type === 8 && tag.body[1] === 0);
          if (loop > 0 && isHeader) continue;
          const ts = tag.timestampMs + loop * durationMs;
          const wait = t0 + ts - Date.now();
          if (wait > 0) await sleep(wait);
          pub.sendMedia(tag.type as 8 | 9, ts, tag.body);
        }
      }
      assert.equal(await exited, 0);
      const streams = (JSON.parse(out) as { streams: { codec_name: string }[] }).streams
        .map((s) => s.codec_name)
        .sort();
      assert.deepEqual(streams, ['aac', 'h264']);
      pub.close();
    },
  );
});

function hasSocketCode(code: string) {
  return (e: unknown): boolean => (e as NodeJS.ErrnoException).code === code;
}
