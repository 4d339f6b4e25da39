import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { RtspClientAuth } from '../../libs/rtsp/index.ts';
import { makeTestFlv, probe, type Child } from './helpers/media.ts';
import { counter, portOf } from './helpers/net.ts';
import { decodeWithFfmpeg, RawRtsp, rtspPublish } from './helpers/rtsp.ts';
import { startLossProxy } from './helpers/rtsp-loss-proxy.ts';
import { getJson, sleep, startSluice, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';

// RTSP control: credentials (Digest, Basic) for publish and play, session keepalives and
// timeouts, bad input, RTSPS, and loss on a UDP publish.

const SPEC = { durationS: 30, width: 320, height: 240, fps: 25, gop: 25, videoKbps: 300 };
const PUB = { username: 'pub', password: 's3cret' };
const VIEWER = { username: 'viewer', password: 'p@ss word' };
const viewerUrl = (base: string): string =>
  base.replace('://', `://${VIEWER.username}:${encodeURIComponent(VIEWER.password)}@`);
const pubUrl = (base: string): string => base.replace('://', `://${PUB.username}:${PUB.password}@`);

let server: SluiceProcess;
let media: string;
let pki: TestPki;
const children: Child[] = [];
const basic = (c: { username: string; password: string }): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

before(async () => {
  [media, pki] = await Promise.all([makeTestFlv(SPEC), makeTestPki()]);
  server = await startSluice(
    {
      log: { level: 'info' },
      stream: { waitPublisherMs: 4000 },
      limits: { handshakeTimeoutMs: 2000, idleTimeoutMs: 3000 },
      rtsp: { sessionTimeoutS: 5, auth: { publish: [PUB], play: [VIEWER] } },
      rtsps: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey },
    },
    { SLUICE_RTSPS_LISTEN: '127.0.0.1:0' },
  );
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await server?.stop();
});

async function published(key: string): Promise<void> {
  await waitFor(
    async () => {
      const j = await getJson<{ streams: { key: string; publisher: unknown }[] }>(
        `${server.api}/api/v1/streams`,
      );
      return j.streams.some((s) => s.key === key && s.publisher);
    },
    10_000,
    `publisher of ${key}`,
  );
  await sleep(1200);
}

test('publish and play need credentials: Digest and Basic accepted, none or wrong get a fresh 401 challenge', async () => {
  const key = 'cam/auth';
  const base = `${server.rtsp}/${key}`;
  // A publisher without credentials, or with a wrong password, never gets the stream.
  const anon = rtspPublish(media, base, 'tcp');
  const wrong = rtspPublish(media, base.replace('://', '://pub:nope@'), 'tcp');
  children.push(anon, wrong);
  assert.notEqual(await anon.exited, 0, 'publish without credentials must fail');
  assert.notEqual(await wrong.exited, 0, 'publish with a wrong password must fail');
  assert.match(anon.stderr() + wrong.stderr(), /401|[Uu]nauthori[sz]ed/);
  children.push(rtspPublish(media, pubUrl(base), 'tcp', { loop: true }));
  await published(key);

  const c = await RawRtsp.open(portOf(server.rtsp!));
  try {
    const first = await c.request('DESCRIBE', base);
    assert.equal(first.status, 401);
    const challenges = first.headers.get('www-authenticate') ?? [];
    assert.ok(
      challenges.some((v) => /^Digest .*realm="sluice".*nonce="/.test(v)),
      challenges.join(' | '),
    );
    assert.ok(
      challenges.some((v) => /^Basic realm="sluice"/.test(v)),
      challenges.join(' | '),
    );
    const bad = new RtspClientAuth({ username: VIEWER.username, password: 'wrong' }, challenges);
    const second = await c.request('DESCRIBE', base, { Authorization: bad.authorization('DESCRIBE', base) });
    assert.equal(second.status, 401, 'a wrong password is refused');
    const fresh = second.headers.get('www-authenticate') ?? [];
    const nonceOf = (vs: string[]): string | undefined =>
      vs.map((v) => /nonce="([^"]+)"/.exec(v)?.[1]).find((n) => n !== undefined);
    assert.notEqual(nonceOf(fresh), nonceOf(challenges), 'a fresh challenge');
    const good = new RtspClientAuth(VIEWER, fresh);
    const third = await c.request('DESCRIBE', base, { Authorization: good.authorization('DESCRIBE', base) });
    assert.equal(third.status, 200, 'Digest accepted on the same connection');
    const viaBasic = await RawRtsp.open(portOf(server.rtsp!));
    try {
      assert.equal((await viaBasic.request('DESCRIBE', base, { Authorization: basic(VIEWER) })).status, 200);
      assert.equal(
        (await viaBasic.request('DESCRIBE', base, { Authorization: basic({ ...VIEWER, password: 'x' }) }))
          .status,
        401,
      );
    } finally {
      viaBasic.close();
    }
  } finally {
    c.close();
  }
  // ffmpeg answers the challenge itself (Digest); a wrong one fails.
  const ok = await decodeWithFfmpeg(viewerUrl(base), 3, ['-rtsp_transport', 'tcp']);
  assert.equal(ok.errors, '');
  assert.ok(ok.video >= 40, `decoded ${ok.video}`);
  const refused = await decodeWithFfmpeg(base.replace('://', '://viewer:wrong@'), 2, [
    '-rtsp_transport',
    'tcp',
  ]);
  assert.equal(refused.video, 0);
  assert.match(refused.errors, /401|[Uu]nauthori[sz]ed/);
  assert.ok((await counter(server.api, 'sluice_rtsp_auth_failures_total', { action: 'play' })) >= 3);
  assert.ok((await counter(server.api, 'sluice_rtsp_auth_failures_total', { action: 'publish' })) >= 1);
});

/** DESCRIBE, SETUP video over TCP, PLAY: the session id. */
async function startPlaying(c: RawRtsp, base: string): Promise<string> {
  const auth = { Authorization: basic(VIEWER) };
  assert.equal((await c.request('DESCRIBE', base, auth)).status, 200);
  const s = await c.request('SETUP', `${base}/trackID=0`, {
    ...auth,
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  assert.equal(s.status, 200);
  const [id, timeout] = s.headers.get('session')![0]!.split(';');
  assert.equal(timeout, 'timeout=5');
  assert.equal((await c.request('PLAY', base, { ...auth, Session: id! })).status, 200);
  return id!;
}

test('GET_PARAMETER keeps a session past its timeout; a silent player is closed after it', async () => {
  const base = `${server.rtsp}/cam/auth`;
  const port = portOf(server.rtsp!);
  const [kept, silent] = await Promise.all([RawRtsp.open(port), RawRtsp.open(port)]);
  try {
    const id = await startPlaying(kept, base);
    await startPlaying(silent, base);
    const before = await counter(server.api, 'sluice_rtsp_timeouts_total', { kind: 'play' });
    for (let i = 0; i < 4; i++) {
      await sleep(2000);
      assert.equal((await kept.request('GET_PARAMETER', base, { Session: id })).status, 200);
    }
    // 8 s > timeout=5: the silent one is gone, the one that kept alive still receives media.
    await waitFor(() => silent.closed, 3000, 'silent session closed');
    const packets = kept.interleavedPackets;
    await sleep(500);
    assert.ok(!kept.closed);
    assert.ok(kept.interleavedPackets > packets, 'media still flowing');
    assert.equal(await counter(server.api, 'sluice_rtsp_timeouts_total', { kind: 'play' }), before + 1);
    // A request naming another session is refused.
    assert.equal((await kept.request('GET_PARAMETER', base, { Session: 'DEADBEEFDEADBEEF' })).status, 454);
  } finally {
    kept.close();
    silent.close();
  }
});

test('bad input: oversized heads and bodies, no CSeq, unknown methods, traversal paths, garbage RTP', async () => {
  const port = portOf(server.rtsp!);
  const errors = (code: string): Promise<number> =>
    counter(server.api, 'sluice_protocol_errors_total', { proto: 'rtsp', code });
  // An endless header line: 400 and the connection closed, counted by code.
  const big = await RawRtsp.open(port);
  const before = await errors('RTSP_HEADER_TOO_LARGE');
  big.socket.write(`OPTIONS rtsp://x/a/b RTSP/1.0\r\nCSeq: 1\r\nX-Long: ${'a'.repeat(20_000)}`);
  await waitFor(() => big.closed, 3000, 'closed after an oversized head');
  assert.equal(await errors('RTSP_HEADER_TOO_LARGE'), before + 1);
  // A body larger than the limit is refused before it is read.
  const body = await RawRtsp.open(port);
  body.socket.write(
    'ANNOUNCE rtsp://x/a/b RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 10000000\r\n\r\n',
  );
  await waitFor(() => body.closed, 3000, 'closed after an oversized body');

  const c = await RawRtsp.open(port);
  try {
    const noCseq = c.request('OPTIONS', 'rtsp://x/a/b');
    // (RawRtsp always sends CSeq; this one goes by hand.)
    void noCseq.catch(() => {});
    const raw = connect(port, '127.0.0.1');
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      raw.on('data', (d) => (got += d.toString()));
      raw.on('close', () => resolve(got));
      raw.write('OPTIONS rtsp://x/a/b RTSP/1.0\r\n\r\n');
    });
    assert.match(answer, /^RTSP\/1.0 400 /);
    assert.equal((await c.request('FLY', 'rtsp://x/a/b')).status, 501);
    assert.equal(
      (await c.request('DESCRIBE', `${server.rtsp}/../../etc/passwd`, { Authorization: basic(VIEWER) }))
        .status,
      404,
    );
    assert.equal(
      (
        await c.request('DESCRIBE', `${server.rtsp}/a%2F..%2F..%2Fetc/passwd`, {
          Authorization: basic(VIEWER),
        })
      ).status,
      404,
    );
    assert.equal((await c.request('PLAY', `${server.rtsp}/a/b`)).status, 455);
  } finally {
    c.close();
  }

  // A publisher whose RTP is garbage: each bad packet skipped and counted, the session goes on.
  const p = await RawRtsp.open(port);
  try {
    const base = `${server.rtsp}/cam/garbage`;
    const sdp = Buffer.from(
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n',
    );
    const auth = { Authorization: basic(PUB) };
    assert.equal(
      (await p.request('ANNOUNCE', base, { ...auth, 'Content-Type': 'application/sdp' }, sdp)).status,
      200,
    );
    const s = await p.request('SETUP', `${base}/streamid=0`, {
      ...auth,
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    });
    assert.equal(s.status, 200);
    const id = s.headers.get('session')![0]!.split(';')[0]!;
    assert.equal((await p.request('RECORD', base, { ...auth, Session: id })).status, 200);
    const bad = await counter(server.api, 'sluice_rtsp_bad_packets_total');
    for (const payload of [
      Buffer.from([0x00, 1, 2]),
      Buffer.alloc(40, 0x3f),
      Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 28]),
    ]) {
      p.socket.write(Buffer.concat([Buffer.from([0x24, 0, 0, payload.length]), payload]));
    }
    assert.equal(
      (await p.request('GET_PARAMETER', base, { Session: id })).status,
      200,
      'still serving the publisher',
    );
    assert.ok((await counter(server.api, 'sluice_rtsp_bad_packets_total')) >= bad + 2);
  } finally {
    p.close();
  }
  // The node is fine: a good stream still plays.
  const d = await decodeWithFfmpeg(viewerUrl(`${server.rtsp}/cam/auth`), 2, ['-rtsp_transport', 'tcp']);
  assert.equal(d.errors, '');
});

test('RTSPS: publish and play on TLS; plain RTSP on the TLS port is closed and counted', async () => {
  const key = 'cam/tls';
  const secure = server.rtsps!;
  children.push(rtspPublish(media, pubUrl(`${secure}/${key}`), 'tcp', { loop: true }));
  await published(key);
  const d = await decodeWithFfmpeg(viewerUrl(`${secure}/${key}`), 3, []);
  assert.equal(d.errors, '');
  assert.ok(d.video >= 40, `decoded ${d.video}`);
  const before = await counter(server.api, 'sluice_tls_handshake_failures_total', { proto: 'rtsps' });
  const plain = await RawRtsp.open(portOf(secure.replace('rtsps:', 'rtsp:')));
  await assert.rejects(plain.request('OPTIONS', `${secure}/${key}`));
  await waitFor(
    async () =>
      (await counter(server.api, 'sluice_tls_handshake_failures_total', { proto: 'rtsps' })) === before + 1,
    3000,
    'handshake failure counted',
  );
});

test('UDP loss between publisher and server: frames after a loss wait for the next key frame, output decodes', async () => {
  const key = 'cam/lossy';
  // Every other IDR frame loses its second fragment (FU-A, RFC 6184 §5.8).
  // Passing the rest of it on, or the frames that refer to it, shows as decode errors; whole
  // small frames lost would not (the decoder conceals them silently).
  // (x264 here cuts a picture into several slices: one damaged frame, one drop.)
  let idrFrames = 0;
  let lastTs = -1;
  let dropNext = false;
  const proxy = await startLossProxy(portOf(server.rtsp!), (track, _n, pkt) => {
    if (track !== 0 || pkt.length < 14 || (pkt[12]! & 0x1f) !== 28) return false;
    const ts = pkt.readUInt32BE(4);
    if ((pkt[13]! & 0x80) !== 0) {
      if ((pkt[13]! & 0x1f) === 5 && ts !== lastTs) {
        lastTs = ts;
        dropNext = idrFrames++ % 2 === 1;
      }
      return false;
    }
    const drop = dropNext;
    dropNext = false;
    return drop;
  });
  try {
    children.push(rtspPublish(media, pubUrl(`rtsp://127.0.0.1:${proxy.port}/${key}`), 'udp', { loop: true }));
    await published(key);
    await sleep(1000);
    const lost = await counter(server.api, 'sluice_rtsp_rtp_packets_lost_total');
    const dropped = await counter(server.api, 'sluice_rtsp_frames_dropped_after_loss_total');
    const [rtmp, rtsp, probed] = await Promise.all([
      decodeWithFfmpeg(`${server.rtmp}/${key}`, 5),
      decodeWithFfmpeg(viewerUrl(`${server.rtsp}/${key}`), 5, ['-rtsp_transport', 'tcp']),
      probe(`${server.rtmp}/${key}`, { packets: true, readSeconds: 5 }),
    ]);
    // A decoder conceals a missing frame without a word, so the frames themselves are checked:
    // where frames are missing (a gap of more than one frame), the next one is a key frame.
    const video = probed.packets.filter((p) => probed.streams[p.stream_index]?.codec_type === 'video');
    let gaps = 0;
    for (let i = 1; i < video.length; i++) {
      const gap = Number(video[i]!.dts_time) - Number(video[i - 1]!.dts_time);
      if (gap < 1.5 / SPEC.fps) continue;
      gaps++;
      assert.match(
        video[i]!.flags,
        /K/,
        `frame after a ${gap.toFixed(3)} s gap at ${video[i]!.dts_time} is not a key frame`,
      );
    }
    assert.ok(gaps >= 1, `no loss seen in the output (${video.length} frames)`);
    assert.ok(proxy.dropped >= 2, `proxy dropped ${proxy.dropped}`);
    assert.equal(rtmp.errors, '', 'RTMP output decodes without errors after losses');
    assert.equal(rtsp.errors, '', 'RTSP output decodes without errors after losses');
    assert.ok(
      rtmp.video > 0 && rtsp.video > 0,
      JSON.stringify({ rtmp, rtsp, dropped: proxy.dropped, fwd: proxy.forwarded }),
    );
    assert.ok((await counter(server.api, 'sluice_rtsp_rtp_packets_lost_total')) > lost, 'loss counted');
    assert.ok(
      (await counter(server.api, 'sluice_rtsp_frames_dropped_after_loss_total')) > dropped,
      'frames dropped counted',
    );
  } finally {
    proxy.close();
  }
});
