import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstTimestampRegression, makeTestFlv, probe, publish, type Child } from './helpers/media.ts';
import { counter, portOf } from './helpers/net.ts';
import { decodeWithFfmpeg, gstreamerPlay, probePackets, RawRtsp, rtspPublish } from './helpers/rtsp.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';

// RTSP in and out with real peers: ffmpeg publishes (TCP and UDP) and plays, GStreamer's rtspsrc
// plays as an independent client, and every other output decodes what an RTSP publisher sent.

const SPEC = { durationS: 30, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const PLAY_S = 4;
/** Frames a player must decode in PLAY_S seconds of 25 fps (joining mid-GOP costs up to a second). */
const MIN_FRAMES = (PLAY_S - 1) * SPEC.fps * 0.9;

let server: SluiceProcess;
const recordDir = mkdtempSync(join(tmpdir(), 'sluice-rtsp-rec-'));
let media: string;
const children: Child[] = [];

before(async () => {
  media = await makeTestFlv(SPEC);
  server = await startSluice({
    log: { level: 'info' },
    stream: { waitPublisherMs: 4000 },
    limits: { handshakeTimeoutMs: 2000, idleTimeoutMs: 3000 },
    hls: { targetMs: 1000 },
    record: { flv: { enabled: true, dir: recordDir } },
  });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

async function published(key: string): Promise<void> {
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; publisher: unknown; video?: unknown }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.some((s) => s.key === key && s.publisher);
    },
    10_000,
    `publisher of ${key}`,
  );
  // A GOP in the cache so players start at once.
  await sleep(1500);
}

const clean = (name: string, d: { errors: string; video: number }): void => {
  assert.equal(d.errors, '', `${name}: decode errors`);
  assert.ok(d.video >= MIN_FRAMES, `${name}: ${d.video} video frames decoded, want >= ${MIN_FRAMES}`);
};

test('RTSP publish over TCP feeds RTSP (TCP, UDP), GStreamer, RTMP, HTTP-FLV, HTTP-TS and HLS players, and the recorder', async () => {
  const key = 'live/rtsp-tcp';
  children.push(rtspPublish(media, `${server.rtsp}/${key}`, 'tcp'));
  await published(key);
  const [rtspTcp, rtspUdp, rtmp, flv, ts, hls, gst] = await Promise.all([
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'tcp']),
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'udp']),
    decodeWithFfmpeg(`${server.rtmp}/${key}`, PLAY_S),
    decodeWithFfmpeg(`${server.http}/${key}.flv`, PLAY_S),
    decodeWithFfmpeg(`${server.http}/${key}.ts`, PLAY_S),
    decodeWithFfmpeg(`${server.http}/${key}.m3u8`, PLAY_S),
    gstreamerPlay(`${server.rtsp}/${key}`, PLAY_S + 1, 'tcp'),
  ]);
  clean('rtsp/tcp', rtspTcp);
  clean('rtsp/udp', rtspUdp);
  clean('rtmp', rtmp);
  clean('http-flv', flv);
  clean('http-ts', ts);
  clean('hls', hls);
  assert.equal(gst.errors, '', 'gstreamer errors');
  assert.ok(gst.video >= MIN_FRAMES, `gstreamer decoded ${gst.video} video frames`);
  assert.ok(gst.audio >= PLAY_S * 20, `gstreamer decoded ${gst.audio} audio frames`);
  // And the recorder: an FLV file of the RTSP publish with both tracks, decodable.
  const started = server.logs.find(
    (l) =>
      l.msg === 'recording started' && String(l.path).includes('rtsp-tcp') && String(l.path).endsWith('.flv'),
  );
  assert.ok(started, 'an FLV recording of the RTSP publish');
  const recorded = await probe(String(started.path), { packets: true });
  assert.deepEqual(recorded.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
  assert.ok(recorded.packets.length > 200, `${recorded.packets.length} packets recorded`);
  assert.equal(firstTimestampRegression(recorded.packets), null);
});

test('RTSP publish over UDP plays back over RTSP and RTMP with both tracks', async () => {
  const key = 'live/rtsp-udp';
  children.push(rtspPublish(media, `${server.rtsp}/${key}`, 'udp'));
  await published(key);
  const [rtsp, rtmp, counts] = await Promise.all([
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'tcp']),
    decodeWithFfmpeg(`${server.rtmp}/${key}`, PLAY_S),
    probePackets(`${server.rtmp}/${key}`, PLAY_S),
  ]);
  clean('rtsp', rtsp);
  clean('rtmp', rtmp);
  assert.deepEqual(counts.codecs.sort(), ['aac', 'h264']);
  // 44.1 kHz AAC: about 43 frames a second.
  assert.ok(counts.audio >= (PLAY_S - 1) * 40, `audio packets ${counts.audio}`);
});

test('RTMP publish serves RTSP players over TCP and UDP, and GStreamer over UDP', async () => {
  const key = 'live/rtmp-to-rtsp';
  children.push(publish(media, `${server.rtmp}/${key}`));
  await published(key);
  const [tcp, udp, gst] = await Promise.all([
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'tcp']),
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'udp']),
    gstreamerPlay(`${server.rtsp}/${key}`, PLAY_S + 1, 'udp'),
  ]);
  clean('tcp', tcp);
  clean('udp', udp);
  assert.equal(gst.errors, '');
  assert.ok(gst.video >= MIN_FRAMES, `gstreamer decoded ${gst.video} video frames`);
});

test('PLAY answers with RTP-Info naming the first packet of each track; one RTP sequence space shared by players', async () => {
  const key = 'live/rtmp-to-rtsp';
  const port = portOf(server.rtsp!);
  const base = `${server.rtsp}/${key}`;
  const firsts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const c = await RawRtsp.open(port);
    try {
      const d = await c.request('DESCRIBE', base, { Accept: 'application/sdp' });
      assert.equal(d.status, 200);
      const sdp = d.body.toString();
      assert.match(sdp, /m=video 0 RTP\/AVP 96/);
      assert.match(sdp, /a=rtpmap:96 H264\/90000/);
      assert.match(sdp, /sprop-parameter-sets=/);
      assert.match(sdp, /a=rtpmap:97 MPEG4-GENERIC\/44100\/\d/);
      const s1 = await c.request('SETUP', `${base}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(s1.status, 200);
      const session = s1.headers.get('session')![0]!;
      assert.match(session, /^[0-9A-Za-z]{16,};timeout=\d+$/);
      const id = session.split(';')[0]!;
      const s2 = await c.request('SETUP', `${base}/trackID=1`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
        Session: id,
      });
      assert.equal(s2.status, 200);
      const seen: Buffer[] = [];
      c.onPacket = (ch, pkt) => {
        if (ch === 0 && seen.length === 0) seen.push(pkt);
      };
      const p = await c.request('PLAY', base, { Session: id, Range: 'npt=0.000-' });
      assert.equal(p.status, 200);
      const info = p.headers.get('rtp-info')![0]!;
      const video = /url=[^;,]*trackID=0;seq=(\d+);rtptime=(\d+)/.exec(info);
      assert.ok(video, `RTP-Info: ${info}`);
      assert.match(info, /trackID=1;seq=\d+;rtptime=\d+/);
      await waitFor(() => seen.length > 0, 3000, 'first video packet');
      assert.equal(seen[0]!.readUInt16BE(2), Number(video[1]), 'first packet sequence = RTP-Info seq');
      assert.equal(seen[0]!.readUInt32BE(4), Number(video[2]), 'first packet timestamp = RTP-Info rtptime');
      firsts.push(seen[0]!.readUInt32BE(8)); // SSRC
      if (i === 0) assert.notEqual(id, undefined);
    } finally {
      c.close();
    }
  }
  assert.equal(firsts[0], firsts[1], 'both players get the stream SSRC (packets serialized once)');
});

test('H.265 over RTSP: published by ffmpeg, played over RTSP and HTTP-TS', async () => {
  const key = 'live/rtsp-hevc';
  const pub = rtspPublish('testsrc2=size=320x240:rate=25', `${server.rtsp}/${key}`, 'tcp', {
    inputArgs: ['-f', 'lavfi'],
    codecArgs: [
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'keyint=25:min-keyint=25:bframes=0:log-level=error',
    ],
  });
  children.push(pub);
  await published(key);
  const [rtsp, ts] = await Promise.all([
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'tcp']),
    decodeWithFfmpeg(`${server.http}/${key}.ts`, PLAY_S),
  ]);
  clean('rtsp hevc', rtsp);
  clean('ts hevc', ts);
  const counts = await probePackets(`${server.rtsp}/${key}`, 2, ['-rtsp_transport', 'tcp']);
  assert.deepEqual(counts.codecs, ['hevc']);
});

test('a second publisher of a key is refused whichever protocol it uses', async () => {
  const key = 'live/rtmp-to-rtsp'; // published over RTMP above
  const c = await RawRtsp.open(portOf(server.rtsp!));
  try {
    const sdp = Buffer.from(
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210\r\na=control:streamid=0\r\n',
    );
    const r = await c.request(
      'ANNOUNCE',
      `${server.rtsp}/${key}`,
      { 'Content-Type': 'application/sdp' },
      sdp,
    );
    assert.equal(r.status, 453);
    // The connection stays usable after the refusal.
    assert.equal((await c.request('OPTIONS', `${server.rtsp}/${key}`)).status, 200);
  } finally {
    c.close();
  }
  assert.ok((await counter(server.api, 'sluice_publish_refused_total', { reason: 'in_use' })) >= 1);
});

test('an RTSP publisher with B-frames: decode times rebuilt, composition times kept, every output in order', async () => {
  const key = 'live/rtsp-bframes';
  children.push(
    rtspPublish('testsrc2=size=320x240:rate=25', `${server.rtsp}/${key}`, 'tcp', {
      inputArgs: ['-f', 'lavfi'],
      codecArgs: ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '3'],
    }),
  );
  await published(key);
  const [rtmp, rtsp, probed] = await Promise.all([
    decodeWithFfmpeg(`${server.rtmp}/${key}`, PLAY_S),
    decodeWithFfmpeg(`${server.rtsp}/${key}`, PLAY_S, ['-rtsp_transport', 'tcp']),
    probe(`${server.rtmp}/${key}`, { packets: true, readSeconds: 3 }),
  ]);
  clean('rtmp', rtmp);
  clean('rtsp', rtsp);
  const video = probed.packets.filter((p) => probed.streams[p.stream_index]?.codec_type === 'video');
  assert.ok(video.length >= 50, `${video.length} video packets`);
  assert.equal(firstTimestampRegression(video), null, 'decode times increase');
  for (const p of video)
    assert.ok(Number(p.pts_time) >= Number(p.dts_time), `pts ${p.pts_time} < dts ${p.dts_time}`);
  const reordered = video.filter((p) => Number(p.pts_time) > Number(p.dts_time) + 0.001).length;
  assert.ok(
    reordered > video.length / 3,
    `composition times kept: ${reordered} of ${video.length} frames reordered`,
  );
  // Presentation times are whole frames apart, as the encoder made them.
  const pts = video.map((p) => Math.round(Number(p.pts_time) * 1000)).sort((a, b) => a - b);
  const steps = new Set(pts.slice(1).map((t, i) => t - pts[i]!));
  assert.ok(
    [...steps].every((s) => s >= 39 && s <= 41),
    `pts steps ${[...steps].join(',')}`,
  );
});

const H264_SDP = Buffer.from(
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n',
);

/** An RTP packet (version 2, PT 96) with `payload`. */
const rtp = (seq: number, ts: number, payload: number[]): Buffer => {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = 0x80 | 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(0x1234, 8);
  Buffer.from(payload).copy(b, 12);
  return b;
};

test('client ports 0 and RTCP channel 256 are refused (461), not sent to; the node keeps serving', async () => {
  const key = 'live/rtmp-to-rtsp';
  const base = `${server.rtsp}/${key}`;
  const port = portOf(server.rtsp!);
  const c = await RawRtsp.open(port);
  try {
    assert.equal((await c.request('DESCRIBE', base)).status, 200);
    for (const [transport, status] of [
      ['RTP/AVP;unicast;client_port=0-1', 461],
      ['RTP/AVP;unicast;client_port=40000-0', 461],
      ['RTP/AVP/TCP;unicast;interleaved=255-256', 400],
      ['RTP/AVP/TCP;unicast;interleaved=255', 400],
    ] as const) {
      assert.equal(
        (await c.request('SETUP', `${base}/trackID=0`, { Transport: transport })).status,
        status,
        transport,
      );
    }
  } finally {
    c.close();
  }
  const p = await RawRtsp.open(port);
  try {
    assert.equal(
      (
        await p.request(
          'ANNOUNCE',
          `${server.rtsp}/live/zero-port`,
          { 'Content-Type': 'application/sdp' },
          H264_SDP,
        )
      ).status,
      200,
    );
    const s = await p.request('SETUP', `${server.rtsp}/live/zero-port/streamid=0`, {
      Transport: 'RTP/AVP;unicast;client_port=40000-0;mode=record',
    });
    assert.equal(s.status, 461);
  } finally {
    p.close();
  }
  const d = await decodeWithFfmpeg(base, 2, ['-rtsp_transport', 'tcp']);
  assert.equal(d.errors, '');
});

test('UDP publisher: a malformed packet released from the reorder window by the timer is skipped and counted', async () => {
  const key = 'live/udp-bad';
  const base = `${server.rtsp}/${key}`;
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const c = await RawRtsp.open(portOf(server.rtsp!));
  try {
    assert.equal(
      (await c.request('ANNOUNCE', base, { 'Content-Type': 'application/sdp' }, H264_SDP)).status,
      200,
    );
    const local = udp.address().port;
    const s = await c.request('SETUP', `${base}/streamid=0`, {
      Transport: `RTP/AVP;unicast;client_port=${local}-${local + 1};mode=record`,
    });
    assert.equal(s.status, 200);
    const serverPort = Number(/server_port=(\d+)-/.exec(s.headers.get('transport')![0]!)![1]);
    const id = s.headers.get('session')![0]!.split(';')[0]!;
    assert.equal((await c.request('RECORD', base, { Session: id })).status, 200);
    const bad = await counter(server.api, 'sluice_rtsp_bad_packets_total');
    // SPS + PPS + IDR at seq 0, then seq 2 (seq 1 missing) is an FU-B, which we do not take.
    udp.send(
      rtp(0, 0, [0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce, 0, 2, 0x65, 0x88]),
      serverPort,
      '127.0.0.1',
    );
    udp.send(rtp(2, 3000, [0x1d, 0x80, 0x01]), serverPort, '127.0.0.1');
    await waitFor(
      async () => (await counter(server.api, 'sluice_rtsp_bad_packets_total')) > bad,
      3000,
      'bad packet counted',
    );
    assert.equal(
      (await c.request('GET_PARAMETER', base, { Session: id })).status,
      200,
      'publisher session goes on',
    );
  } finally {
    c.close();
    udp.close();
  }
});

test('PAUSE then PLAY again resumes after the last packet sent: sequence numbers never go back', async () => {
  const key = 'live/rtmp-to-rtsp';
  const base = `${server.rtsp}/${key}`;
  const c = await RawRtsp.open(portOf(server.rtsp!));
  try {
    assert.equal((await c.request('DESCRIBE', base)).status, 200);
    const s = await c.request('SETUP', `${base}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    const id = s.headers.get('session')![0]!.split(';')[0]!;
    const seqs: number[] = [];
    c.onPacket = (ch, pkt) => {
      if (ch === 0) seqs.push(pkt.readUInt16BE(2));
    };
    assert.equal((await c.request('PLAY', base, { Session: id })).status, 200);
    await sleep(300);
    assert.equal((await c.request('PAUSE', base, { Session: id })).status, 200);
    await sleep(200);
    const before = seqs.length;
    const last = seqs.at(-1)!;
    const again = await c.request('PLAY', base, { Session: id });
    assert.equal(again.status, 200);
    const seq = Number(/seq=(\d+)/.exec(again.headers.get('rtp-info')![0]!)![1]);
    assert.ok(
      ((seq - last) & 0xffff) > 0 && ((seq - last) & 0xffff) < 0x8000,
      `resumed at ${seq} after ${last}`,
    );
    await sleep(1200);
    const after = seqs.slice(before);
    assert.ok(after.length > 0, 'packets after the second PLAY');
    assert.equal(after[0], seq, 'first packet after PLAY is the one RTP-Info names');
    for (let i = 1; i < seqs.length; i++) {
      const step = (seqs[i]! - seqs[i - 1]!) & 0xffff;
      assert.ok(step > 0 && step < 0x8000, `sequence went back: ${seqs[i - 1]} -> ${seqs[i]}`);
    }
  } finally {
    c.close();
  }
});

test('a refused DESCRIBE or a broken SDP leaves the connection free to publish; TEARDOWN ends the session, not the connection', async () => {
  const c = await RawRtsp.open(portOf(server.rtsp!));
  try {
    assert.equal((await c.request('DESCRIBE', `${server.rtsp}/live/nothing-here`)).status, 404);
    const broken = await c.request(
      'ANNOUNCE',
      `${server.rtsp}/live/second-try`,
      { 'Content-Type': 'application/sdp' },
      Buffer.from('m=video oops\r\n'),
    );
    assert.equal(broken.status, 400);
    const ok = await c.request(
      'ANNOUNCE',
      `${server.rtsp}/live/second-try`,
      { 'Content-Type': 'application/sdp' },
      H264_SDP,
    );
    assert.equal(ok.status, 200);
    // TEARDOWN ends the publish and keeps the connection: it can start another session.
    const streams = async (): Promise<{ key: string; publisher: unknown }[]> =>
      (await getJson<{ streams: { key: string; publisher: unknown }[] }>(`${server.api}/api/v1/streams`))
        .streams;
    assert.ok((await streams()).some((s) => s.key === 'live/second-try' && s.publisher));
    assert.equal((await c.request('TEARDOWN', `${server.rtsp}/live/second-try`)).status, 200);
    await waitFor(
      async () => !(await streams()).some((s) => s.key === 'live/second-try' && s.publisher),
      3000,
      'publish ended',
    );
    const next = await c.request(
      'ANNOUNCE',
      `${server.rtsp}/live/third-try`,
      { 'Content-Type': 'application/sdp' },
      H264_SDP,
    );
    assert.equal(next.status, 200, 'a new session on the same connection');
  } finally {
    c.close();
  }
});
