import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveWindow } from '../../../libs/hls/live-window.ts';
import { formatSeconds, type PlaylistEntry } from '../../../libs/hls/playlist.ts';
import { RecordPlaylist } from '../../../libs/hls/record-playlist.ts';

const entry = (seq: number, durationMs = 2000, discontinuity = false): PlaylistEntry => ({
  seq,
  name: `s-${seq}.ts`,
  durationMs,
  discontinuity,
});

/** The tags and URIs of a playlist as [tag, value] pairs, for targeted assertions. */
function tags(text: string): [string, string][] {
  assert.ok(text.endsWith('\n'));
  return text
    .trimEnd()
    .split('\n')
    .map((l): [string, string] => {
      const c = l.indexOf(':');
      return l.startsWith('#') && c > 0 ? [l.slice(0, c), l.slice(c + 1)] : [l, ''];
    });
}
const tagValue = (text: string, tag: string) => tags(text).find(([t]) => t === tag)?.[1];
const uris = (text: string) =>
  tags(text)
    .filter(([t]) => !t.startsWith('#'))
    .map(([t]) => t);

test('formatSeconds: three decimals, exact for integer ms', () => {
  const cases: [number, string][] = [
    [0, '0.000'],
    [1, '0.001'],
    [2000, '2.000'],
    [2002, '2.002'],
    [999, '0.999'],
    [123_456_789, '123456.789'],
  ];
  for (const [ms, s] of cases) assert.equal(formatSeconds(ms), s, `${ms} ms`);
});

test('live playlist: exact text of a short window', () => {
  const w = new LiveWindow({ listSize: 3, targetMs: 2000 });
  assert.equal(w.playlist, null, 'no playlist before the first segment');
  w.add(entry(7, 2000));
  w.add(entry(8, 1960));
  assert.equal(
    w.playlist,
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n' +
      '#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXTINF:2.000,\ns-7.ts\n#EXTINF:1.960,\ns-8.ts\n',
  );
});

test('live window: slides at listSize, media sequence follows the first listed segment', () => {
  const w = new LiveWindow({ listSize: 3, targetMs: 2000 });
  const removed: number[] = [];
  for (let seq = 0; seq < 10; seq++) for (const r of w.add(entry(seq))) removed.push(r.seq);
  assert.deepEqual(removed, [0, 1, 2, 3, 4, 5, 6]);
  const text = w.playlist!;
  assert.deepEqual(uris(text), ['s-7.ts', 's-8.ts', 's-9.ts']);
  assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '7');
  assert.equal(tagValue(text, '#EXT-X-ENDLIST'), undefined);
});

test('live window: never lists less than three target durations (RFC 8216 §6.2.2)', () => {
  const w = new LiveWindow({ listSize: 2, targetMs: 2000 });
  for (let seq = 0; seq < 6; seq++) w.add(entry(seq, 2000));
  // Two 2 s segments would be 4 s < 3 x 2 s: three stay listed.
  assert.deepEqual(uris(w.playlist!), ['s-3.ts', 's-4.ts', 's-5.ts']);
  assert.equal(w.listedMs, 6000);
  // Short segments (publisher flaps) extend the window, but at most to 3 x listSize.
  for (let seq = 6; seq < 30; seq++) w.add(entry(seq, 100));
  assert.equal(w.entries.length, 6);
});

test('target duration: the longest segment ever listed, rounded (RFC 8216 §4.3.3.1), at least ceil(target), never decreasing', () => {
  const w = new LiveWindow({ listSize: 2, targetMs: 1500 });
  w.add(entry(0, 1000));
  assert.equal(tagValue(w.playlist!, '#EXT-X-TARGETDURATION'), '2', 'ceil(1.5 s target)');
  w.add(entry(1, 2499));
  assert.equal(tagValue(w.playlist!, '#EXT-X-TARGETDURATION'), '2', '2.499 s rounds to 2');
  w.add(entry(2, 2500));
  assert.equal(tagValue(w.playlist!, '#EXT-X-TARGETDURATION'), '3', '2.5 s rounds up to 3');
  w.add(entry(3, 4600));
  assert.equal(tagValue(w.playlist!, '#EXT-X-TARGETDURATION'), '5');
  // The long segment scrolls out; the target duration stays.
  for (let seq = 4; seq < 12; seq++) w.add(entry(seq, 2000));
  assert.ok(!w.entries.some((e) => e.durationMs === 4600));
  assert.equal(tagValue(w.playlist!, '#EXT-X-TARGETDURATION'), '5');
});

test('target duration: every EXTINF rounded is at most it, whatever the durations', () => {
  const w = new LiveWindow({ listSize: 4, targetMs: 2000 });
  let x = 12345;
  for (let seq = 0; seq < 500; seq++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    w.add(entry(seq, 500 + (x % 9000)));
    const text = w.playlist!;
    const target = Number(tagValue(text, '#EXT-X-TARGETDURATION'));
    for (const [t, v] of tags(text))
      if (t === '#EXTINF') assert.ok(Math.round(parseFloat(v)) <= target, `${v} > ${target}`);
  }
});

test('discontinuity: tag before the segment, DISCONTINUITY-SEQUENCE counts the ones that scrolled out', () => {
  const w = new LiveWindow({ listSize: 3, targetMs: 2000 });
  w.add(entry(0));
  w.add(entry(1));
  w.add(entry(2, 2000, true));
  w.add(entry(3));
  let text = w.playlist!;
  assert.equal(tagValue(text, '#EXT-X-DISCONTINUITY-SEQUENCE'), '0');
  const lines = text.split('\n');
  assert.equal(lines[lines.indexOf('s-2.ts') - 2], '#EXT-X-DISCONTINUITY');
  assert.equal(lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1);
  // s-2 leaves the window: its discontinuity is now counted by the sequence.
  w.add(entry(4, 2000, true));
  w.add(entry(5));
  text = w.playlist!;
  assert.deepEqual(uris(text), ['s-3.ts', 's-4.ts', 's-5.ts']);
  assert.equal(tagValue(text, '#EXT-X-DISCONTINUITY-SEQUENCE'), '1');
  assert.equal(text.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1);
  for (let seq = 6; seq < 9; seq++) w.add(entry(seq));
  assert.equal(tagValue(w.playlist!, '#EXT-X-DISCONTINUITY-SEQUENCE'), '2');
  assert.ok(!w.playlist!.includes('#EXT-X-DISCONTINUITY\n'));
});

test('ENDLIST when the stream ended, gone again when a segment follows', () => {
  const w = new LiveWindow({ listSize: 3, targetMs: 2000 });
  w.add(entry(0));
  w.end();
  assert.ok(w.playlist!.endsWith('#EXTINF:2.000,\ns-0.ts\n#EXT-X-ENDLIST\n'));
  w.add(entry(1, 2000, true));
  assert.ok(!w.playlist!.includes('#EXT-X-ENDLIST'));
});

test('live window: a gap in sequence numbers empties the window; going back is refused', () => {
  const w = new LiveWindow({ listSize: 3, targetMs: 2000 });
  w.add(entry(0, 2000, true));
  w.add(entry(1));
  const removed = w.add(entry(5));
  assert.deepEqual(
    removed.map((r) => r.seq),
    [0, 1],
  );
  assert.deepEqual(uris(w.playlist!), ['s-5.ts']);
  assert.equal(tagValue(w.playlist!, '#EXT-X-MEDIA-SEQUENCE'), '5');
  assert.equal(tagValue(w.playlist!, '#EXT-X-DISCONTINUITY-SEQUENCE'), '1');
  assert.throws(() => w.add(entry(5)), RangeError);
  assert.throws(() => w.add(entry(3)), RangeError);
});

test('record playlist: EVENT, every segment, ENDLIST at the end, bounded', () => {
  const r = new RecordPlaylist({ targetMs: 2000, maxEntries: 50 });
  assert.equal(r.playlist, null);
  for (let seq = 3; seq < 43; seq++)
    assert.equal(r.add(entry(seq, seq === 10 ? 3600 : 2000, seq === 20)), true);
  let text = r.playlist!;
  assert.equal(tagValue(text, '#EXT-X-PLAYLIST-TYPE'), 'EVENT');
  assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '3');
  assert.equal(tagValue(text, '#EXT-X-TARGETDURATION'), '4');
  assert.equal(uris(text).length, 40);
  assert.equal(uris(text)[0], 's-3.ts');
  assert.equal(text.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1);
  assert.ok(!text.includes('#EXT-X-ENDLIST'));
  r.end();
  text = r.playlist!;
  assert.ok(text.endsWith('s-42.ts\n#EXT-X-ENDLIST\n'));
  for (let seq = 43; seq < 53; seq++) r.add(entry(seq));
  assert.equal(r.add(entry(53)), false, 'full');
  assert.equal(r.size, 50);
  assert.equal(uris(r.playlist!).length, 50);
});
