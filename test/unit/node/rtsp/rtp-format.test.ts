import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  forEachInterleaved,
  msToRtp,
  parseRtcp,
  parseRtpPacket,
  type RtcpPacket,
} from '../../../../libs/rtp/index.ts';
import {
  createMediaMessage,
  MediaKind,
  wireBytes,
  type MediaMessage,
} from '../../../../libs/stream/index.ts';
import {
  AUDIO_PAYLOAD_TYPE,
  MAX_RTP_PACKET_BYTES,
  rtpChannelOf,
  rtpFormat,
  rtpTimeOf,
  TrackId,
  VIDEO_PAYLOAD_TYPE,
} from '../../../../services/node/rtsp/rtp-format.ts';
import { aacAudio, legacyVideo } from '../../mpegts/helpers.ts';
import { buildStream, fixture, H264_AAC, H265_AAC, newRtpState, serializeAll, type Sent } from './media.ts';

const sr = (packet: Buffer): Extract<RtcpPacket, { type: 'sr' }> => {
  const p = parseRtcp(packet)[0];
  assert.equal(p?.type, 'sr');
  return p as Extract<RtcpPacket, { type: 'sr' }>;
};

test('channels: video RTP 0 / RTCP 1, audio RTP 2 / RTCP 3', () => {
  assert.equal(rtpChannelOf(TrackId.Video), 0);
  assert.equal(rtpChannelOf(TrackId.Audio), 2);
});

for (const [name, spec] of [
  ['H.264 + AAC', H264_AAC],
  ['H.265 + AAC', H265_AAC],
] as const) {
  test(`every key frame's buffer starts with sender reports for both tracks, then its RTP: ${name}`, () => {
    const b = buildStream(spec);
    const st = newRtpState();
    for (const msg of b.messages) {
      const records: Sent[] = [];
      forEachInterleaved(rtpFormat.serialize(msg, st), (channel, packet) =>
        records.push({ channel, packet, msgIndex: 0 }),
      );
      if (msg.isSequenceHeader) {
        assert.equal(records.length, 0, 'sequence headers go in the SDP, not in RTP');
        continue;
      }
      const channels = records.map((r) => r.channel);
      if (msg.kind === MediaKind.Audio) {
        assert.ok(
          channels.every((c) => c === 2),
          'audio: RTP on 2 only (video carries the reports)',
        );
        continue;
      }
      if (!msg.isKeyFrame) {
        assert.ok(channels.every((c) => c === 0));
        continue;
      }
      assert.deepEqual(channels.slice(0, 3), [1, 3, 0]);
      assert.ok(channels.slice(2).every((c) => c === 0));
      const [videoSr, audioSr] = [sr(records[0]!.packet), sr(records[1]!.packet)];
      const rtp = parseRtpPacket(records[2]!.packet);
      assert.equal(videoSr.ssrc, rtp.ssrc);
      assert.equal(videoSr.rtpTimestamp, rtp.timestamp, 'composition 0: the report names the frame time');
      assert.equal(audioSr.ssrc, st.audio.out!.ssrc);
      assert.equal(audioSr.rtpTimestamp, rtpTimeOf(st.audio, st.audio.out!.clockRate, msg.timestampMs));
      assert.deepEqual(
        [videoSr.ntpMsw, videoSr.ntpLsw],
        [audioSr.ntpMsw, audioSr.ntpLsw],
        'one wall clock for both tracks',
      );
    }
  });

  test(`the first RTP packet of each track comes after a sender report of that track: ${name}`, () => {
    const sent = serializeAll(buildStream(spec).messages);
    for (const ch of [0, 2]) {
      const firstRtp = sent.findIndex((s) => s.channel === ch);
      const firstSr = sent.findIndex((s) => s.channel === ch + 1);
      assert.ok(
        firstRtp >= 0 && firstSr >= 0 && firstSr < firstRtp,
        `channel ${ch}: SR at ${firstSr}, RTP at ${firstRtp}`,
      );
    }
  });

  test(`packets: payload types, size bound, one marker per video frame at its end, timestamps: ${name}`, () => {
    const b = buildStream(spec);
    const st = newRtpState();
    for (const msg of b.messages) {
      const rtp: Buffer[] = [];
      forEachInterleaved(rtpFormat.serialize(msg, st), (channel, packet) => {
        assert.ok(packet.length <= MAX_RTP_PACKET_BYTES, `${packet.length} bytes`);
        if (channel % 2 === 0) rtp.push(packet);
      });
      if (msg.isSequenceHeader) continue;
      const pkts = rtp.map((p) => parseRtpPacket(p));
      const video = msg.kind === MediaKind.Video;
      const clock = video ? 90_000 : st.audio.config!.clockRate;
      const track = video ? st.video : st.audio;
      for (const p of pkts) {
        assert.equal(p.payloadType, video ? VIDEO_PAYLOAD_TYPE : AUDIO_PAYLOAD_TYPE);
        assert.equal(p.timestamp, rtpTimeOf(track, clock, msg.timestampMs));
      }
      assert.deepEqual(
        pkts.map((p) => p.marker),
        pkts.map((_, i) => i === pkts.length - 1),
      );
    }
  });
}

/** Sequence numbers of one channel step by one (mod 2^16). */
function assertContinuous(seqs: readonly number[], what: string): void {
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], (seqs[i - 1]! + 1) & 0xffff, `${what}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
}

function seqsOf(bufs: readonly Buffer[], channel: number): number[] {
  const out: number[] = [];
  for (const b of bufs) forEachInterleaved(b, (ch, p) => ch === channel && out.push(p.readUInt16BE(2)));
  return out;
}

test('sequence numbers continue across messages, and a second player joining at a key frame shares them', () => {
  const b = buildStream(H264_AAC);
  const states: unknown[] = [];
  // Player A from the start; player B joins at the second key frame (its burst: the headers,
  // then the cached GOP), both through the stream's memoized wire bytes.
  const a = b.messages.map((m) => wireBytes(m, rtpFormat, states));
  const keys = b.messages.flatMap((m, i) =>
    m.kind === MediaKind.Video && m.isKeyFrame && !m.isSequenceHeader ? [i] : [],
  );
  const join = keys[1]!;
  const headers = b.messages.filter((m) => m.isSequenceHeader);
  const bBufs = [...headers, ...b.messages.slice(join)].map((m) => wireBytes(m, rtpFormat, states));
  b.messages
    .slice(join)
    .forEach((m, i) => assert.equal(bBufs[headers.length + i], a[join + i], 'the same Buffer'));
  for (const ch of [0, 2]) {
    const seqsA = seqsOf(a, ch);
    assert.ok(seqsA.length > 20);
    assertContinuous(seqsA, `player A channel ${ch}`);
    const seqsB = seqsOf(bBufs, ch);
    assertContinuous(seqsB, `player B channel ${ch}`);
    assert.deepEqual(seqsB, seqsA.slice(seqsA.length - seqsB.length));
  }
  assert.equal(seqsOf(a, 1).length, keys.length, 'one video report per key frame');
});

test('each stream state has its own SSRCs and random RTP offsets; video and audio differ', () => {
  const s1 = newRtpState();
  const s2 = newRtpState();
  assert.notEqual(s1.video.ssrc, s2.video.ssrc);
  assert.notEqual(s1.video.ssrc, s1.audio.ssrc);
  assert.notEqual(s1.video.offset, s2.video.offset);
});

const aacAsc = fixture('aac-stereo-48000.asc');
const audio = (ms: number, seq = false): MediaMessage =>
  createMediaMessage(
    MediaKind.Audio,
    ms,
    aacAudio(seq, seq ? aacAsc : Buffer.from([0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c])),
    {
      isKeyFrame: false,
      isSequenceHeader: seq,
    },
  );

test('audio only: a sender report before the first packet, then every 2 s of stream time', () => {
  const st = newRtpState();
  const reportsAt: number[] = [];
  assert.equal(rtpFormat.serialize(audio(0, true), st).length, 0);
  for (let ms = 0; ms <= 5_000; ms += 100) {
    const channels: number[] = [];
    forEachInterleaved(rtpFormat.serialize(audio(ms), st), (ch) => channels.push(ch));
    if (channels[0] === 3) reportsAt.push(ms);
    assert.deepEqual(
      channels.filter((c) => c !== 3),
      [2],
    );
  }
  assert.deepEqual(reportsAt, [0, 2_000, 4_000]);
});

const avcc = fixture('h264-baseline-320x240.avcc');
const idr = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
const lp = (n: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, n.length]), n]);
const video = (ms: number, payload: Buffer, key: boolean, seq = false): MediaMessage =>
  createMediaMessage(MediaKind.Video, ms, payload, { isKeyFrame: key, isSequenceHeader: seq });

const NOTHING: [string, (st: ReturnType<typeof newRtpState>) => MediaMessage[]][] = [
  ['video before its sequence header', () => [video(0, legacyVideo(7, true, 1, 0, lp(idr)), true)]],
  ['audio before its sequence header', () => [audio(0)]],
  [
    'metadata',
    () => [
      createMediaMessage(MediaKind.Data, 0, Buffer.from([2, 0, 1, 0x41]), {
        isKeyFrame: false,
        isSequenceHeader: false,
      }),
    ],
  ],
  ['VP6 video (codec 4)', () => [video(0, Buffer.from([0x14, 0, 1, 2]), true)]],
  [
    'MP3 audio (format 2)',
    () => [
      createMediaMessage(MediaKind.Audio, 0, Buffer.from([0x2f, 1, 2, 3]), {
        isKeyFrame: false,
        isSequenceHeader: false,
      }),
    ],
  ],
  [
    'an AVC end of sequence',
    () => [
      video(0, legacyVideo(7, true, 0, 0, avcc), true, true),
      video(0, legacyVideo(7, true, 2, 0, Buffer.alloc(0)), true),
    ],
  ],
  [
    'a frame of only an access unit delimiter',
    () => [
      video(0, legacyVideo(7, true, 0, 0, avcc), true, true),
      video(0, legacyVideo(7, false, 1, 0, lp(Buffer.from([9, 0xf0]))), false),
    ],
  ],
];

for (const [name, msgs] of NOTHING) {
  test(`no RTP for ${name}`, () => {
    const st = newRtpState();
    for (const m of msgs(st)) assert.equal(rtpFormat.serialize(m, st).length, 0);
    assert.equal(st.skipped, 0);
  });
}

test('a malformed sequence header or frame is skipped and counted, the stream goes on', () => {
  const st = newRtpState();
  assert.equal(
    rtpFormat.serialize(video(0, legacyVideo(7, true, 0, 0, Buffer.from([1, 2])), true, true), st).length,
    0,
  );
  assert.equal(st.skipped, 1);
  assert.equal(rtpFormat.serialize(video(0, legacyVideo(7, true, 0, 0, avcc), true, true), st).length, 0);
  // A NAL length running past the frame.
  assert.equal(
    rtpFormat.serialize(video(0, legacyVideo(7, true, 1, 0, Buffer.from([0, 0, 0, 99, 0x65])), true), st)
      .length,
    0,
  );
  assert.equal(st.skipped, 2);
  assert.ok(rtpFormat.serialize(video(40, legacyVideo(7, true, 1, 0, lp(idr)), true), st).length > 0);
});

test('a composition offset moves the RTP timestamp to the presentation time', () => {
  const st = newRtpState();
  rtpFormat.serialize(video(0, legacyVideo(7, true, 0, 0, avcc), true, true), st);
  const out = rtpFormat.serialize(
    video(1_000, legacyVideo(7, false, 1, 80, lp(Buffer.from([0x41, 1, 2, 3]))), false),
    st,
  );
  const pkts: number[] = [];
  forEachInterleaved(out, (_ch, p) => pkts.push(parseRtpPacket(p).timestamp));
  assert.deepEqual(pkts, [msToRtp(1_080, 90_000, st.video.offset)]);
});

test("a key frame without SPS in band gets the record's parameter sets in front; one with them is sent as it is", () => {
  const st = newRtpState();
  rtpFormat.serialize(video(0, legacyVideo(7, true, 0, 0, avcc), true, true), st);
  const naluTypes = (buf: Buffer): number[] => {
    const out: number[] = [];
    forEachInterleaved(buf, (ch, p) => {
      if (ch !== 0) return;
      const payload = parseRtpPacket(p).payload;
      if ((payload[0]! & 0x1f) !== 24) out.push(payload[0]! & 0x1f);
      else
        for (let pos = 1; pos < payload.length; pos += 2 + payload.readUInt16BE(pos))
          out.push(payload[pos + 2]! & 0x1f);
    });
    return out;
  };
  assert.deepEqual(
    naluTypes(rtpFormat.serialize(video(0, legacyVideo(7, true, 1, 0, lp(idr)), true), st)),
    [7, 8, 5],
  );
  const [sps, pps] = [st.video.config!.sps[0]!, st.video.config!.pps[0]!];
  const inBand = Buffer.concat([lp(sps), lp(pps), lp(idr)]);
  assert.deepEqual(
    naluTypes(rtpFormat.serialize(video(40, legacyVideo(7, true, 1, 0, inBand), true), st)),
    [7, 8, 5],
  );
  assert.deepEqual(
    naluTypes(
      rtpFormat.serialize(video(80, legacyVideo(7, false, 1, 0, lp(Buffer.from([0x41, 1]))), false), st),
    ),
    [1],
  );
});
