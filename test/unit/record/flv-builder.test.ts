import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAmf0 } from '../../../libs/amf/index.ts';
import { encodeOnMetaData, FlvReader, parseScriptData, type FlvTag } from '../../../libs/flv/index.ts';
import { FlvBuilder } from '../../../libs/record/flv-builder.ts';
import { AUDIO_ONLY_AFTER_MS, metadataCodecs } from '../../../libs/record/start-rule.ts';
import { createMediaMessage, MediaKind, type MediaMessage } from '../../../libs/stream/media.ts';

// FLV tag bodies as a publisher sends them: AVC (codec 7) and AAC (sound format 10).
const vsh = (ts: number): MediaMessage =>
  createMediaMessage(MediaKind.Video, ts, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64]), {
    isKeyFrame: false,
    isSequenceHeader: true,
  });
const key = (ts: number, tag = 0): MediaMessage =>
  createMediaMessage(MediaKind.Video, ts, Buffer.from([0x17, 1, 0, 0, 0, tag]), {
    isKeyFrame: true,
    isSequenceHeader: false,
  });
const inter = (ts: number, tag = 0): MediaMessage =>
  createMediaMessage(MediaKind.Video, ts, Buffer.from([0x27, 1, 0, 0, 0, tag]), {
    isKeyFrame: false,
    isSequenceHeader: false,
  });
const ash = (ts: number): MediaMessage =>
  createMediaMessage(MediaKind.Audio, ts, Buffer.from([0xaf, 0, 0x12, 0x10]), {
    isKeyFrame: false,
    isSequenceHeader: true,
  });
const aud = (ts: number, tag = 0): MediaMessage =>
  createMediaMessage(MediaKind.Audio, ts, Buffer.from([0xaf, 1, tag]), {
    isKeyFrame: false,
    isSequenceHeader: false,
  });
const meta = (props: Record<string, number | string>): MediaMessage =>
  createMediaMessage(MediaKind.Data, 0, encodeOnMetaData(props), {
    isKeyFrame: false,
    isSequenceHeader: false,
  });

/** Feeds the messages and parses everything the builder returned as one FLV file. */
function run(msgs: MediaMessage[]): {
  header: { hasAudio: boolean; hasVideo: boolean } | null;
  tags: FlvTag[];
} {
  const b = new FlvBuilder();
  const bytes = Buffer.concat(msgs.flatMap((m) => b.push(m)));
  const r = new FlvReader();
  const tags = r.push(bytes);
  return { header: r.header, tags };
}

const summary = (tags: FlvTag[]): string[] =>
  tags.map((t) => {
    const kind = t.type === 8 ? 'a' : t.type === 9 ? 'v' : 'd';
    const what = t.type === 18 ? 'meta' : t.body[1] === 0 ? 'sh' : `f${t.body[t.body.length - 1]}`;
    return `${kind}:${what}@${t.timestampMs}`;
  });

test('flv builder: header, metadata and sequence headers at 0, then frames from the first key frame, rebased', () => {
  const { header, tags } = run([
    meta({ videocodecid: 7, audiocodecid: 10 }),
    vsh(5000),
    ash(5000),
    aud(5000, 1), // before the first key frame: not in the file
    inter(5010, 2), // likewise
    key(5040, 3),
    aud(5035, 4), // audio a few ms behind the key frame: kept, at 0
    aud(5060, 5),
    inter(5080, 6),
  ]);
  assert.deepEqual(header, { hasAudio: true, hasVideo: true });
  assert.deepEqual(summary(tags), ['d:meta@0', 'v:sh@0', 'a:sh@0', 'v:f3@0', 'a:f4@0', 'a:f5@20', 'v:f6@40']);
  assert.equal(parseScriptData(tags[0]!.body).name, 'onMetaData');
});

test('flv builder: nothing at all until a key frame (no empty file for a publish without media)', () => {
  const b = new FlvBuilder();
  for (const m of [meta({ videocodecid: 7 }), vsh(0), ash(0), aud(0), inter(10), aud(20)]) {
    assert.deepEqual(b.push(m), []);
  }
  assert.equal(b.started, false);
  assert.ok(b.push(key(40)).length > 0);
  assert.equal(b.started, true);
});

test('flv builder: an audio-only stream starts on its first audio frame', () => {
  const { header, tags } = run([meta({ audiocodecid: 10 }), ash(100), aud(100, 1), aud(123, 2)]);
  assert.deepEqual(header, { hasAudio: true, hasVideo: false });
  assert.deepEqual(summary(tags), ['d:meta@0', 'a:sh@0', 'a:f1@0', 'a:f2@23']);
});

test('flv builder: metadata that promises video which never comes still records audio after a while', () => {
  const msgs = [meta({ videocodecid: 7, audiocodecid: 10 }), ash(0)];
  for (let t = 0; t <= AUDIO_ONLY_AFTER_MS + 100; t += 100) msgs.push(aud(t, t / 100));
  const { tags } = run(msgs);
  const frames = tags.filter((t) => t.type === 8 && t.body[1] === 1);
  assert.equal(frames[0]!.timestampMs, 0);
  assert.equal(frames[0]!.body[2], AUDIO_ONLY_AFTER_MS / 100, 'started on the audio frame at the limit');
});

test('flv builder: a new sequence header mid-file goes in at the current time; duration follows the frames', () => {
  const b = new FlvBuilder();
  const bytes = Buffer.concat(
    [vsh(0), key(1000, 1), inter(1040, 2), vsh(1060), key(1080, 3), meta({ videocodecid: 7 })].flatMap((m) =>
      b.push(m),
    ),
  );
  const tags = new FlvReader().push(bytes);
  assert.deepEqual(summary(tags), ['v:sh@0', 'v:f1@0', 'v:f2@40', 'v:sh@40', 'v:f3@80', 'd:meta@80']);
  assert.equal(b.durationMs, 80);
});

test('flv builder: timelines past 2^32 ms are rebased into the file', () => {
  const t0 = 2 ** 32 + 5000;
  const { tags } = run([vsh(t0), key(t0, 1), inter(t0 + 40, 2)]);
  assert.deepEqual(summary(tags), ['v:sh@0', 'v:f1@0', 'v:f2@40']);
});

test('metadata codecs: ECMA array or object, absent or zero codec ids, unreadable bodies', () => {
  assert.deepEqual(metadataCodecs(encodeOnMetaData({ videocodecid: 7, audiocodecid: 10 })), {
    video: true,
    audio: true,
  });
  assert.deepEqual(metadataCodecs(encodeOnMetaData({ videocodecid: 0, audiocodecid: 'mp4a' })), {
    video: false,
    audio: true,
  });
  assert.deepEqual(metadataCodecs(Buffer.from([0x02, 0x00])), { video: false, audio: false });
  // An anonymous object (some encoders) rather than an ECMA array.
  assert.deepEqual(metadataCodecs(encodeAmf0(['onMetaData', { videocodecid: 7 }])), {
    video: true,
    audio: false,
  });
});
