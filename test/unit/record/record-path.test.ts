import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPath } from '../../../libs/http/media-path.ts';
import { parseStreamName } from '../../../libs/rtmp/stream-name.ts';
import { recordFilePath, RecordPathError, shortId, utcStamp } from '../../../libs/record/record-path.ts';

const at = new Date(Date.UTC(2026, 10, 27, 8, 5, 1));

test('record path: <dir>/<app...>/<name>/<name>-<UTC time>-<short id>.<ext>, absolute', () => {
  assert.equal(utcStamp(at), '20261127-080501');
  assert.equal(
    recordFilePath('/rec/flv', 'live/cam1', at, 'rtmp-0a1b2c3d', 'flv'),
    '/rec/flv/live/cam1/cam1-20261127-080501-0a1b2c3d.flv',
  );
  assert.equal(
    recordFilePath('/rec/ts/', 'app/sub/x~y.z', at, 'rtmp-0a1b2c3d', 'ts'),
    '/rec/ts/app/sub/x~y.z/x~y.z-20261127-080501-0a1b2c3d.ts',
  );
  assert.ok(
    recordFilePath('./record/flv', 'live/a', at, 'p', 'flv').startsWith(
      `${process.cwd()}/record/flv/live/a/`,
    ),
  );
  assert.equal(shortId('relay:origin-1:7'), 'origin17');
  assert.equal(shortId('::'), 'x');
});

// Names that must never become paths: spaces, unicode, traversal, separators, empty segments.
const hostile = [
  'live/a b',
  'live/café',
  'live/..',
  'live/.',
  '../etc/passwd',
  'live/../../etc',
  'live/a\\..\\..\\b',
  'live//x',
  '/live/x',
  'live/x/',
  'live/x\u0000y',
  'live/%2e%2e',
  'nokey',
];

test('record path: keys outside the stream-key alphabet are refused, never turned into paths', () => {
  for (const key of hostile) {
    assert.throws(() => recordFilePath('/rec', key, at, 'p', 'flv'), RecordPathError, JSON.stringify(key));
  }
});

test('record path: the RTMP and HTTP parsers refuse the same names upstream (URL-encoded or raw)', () => {
  const names = ['a b', 'a%20b', 'café', 'caf%C3%A9', '..', '../x', '..%2Fx', 'a/b', 'x\u0000'];
  for (const n of names) {
    assert.throws(
      () => parseStreamName('live', n),
      { code: 'RTMP_BAD_STREAM_NAME' },
      `rtmp ${JSON.stringify(n)}`,
    );
  }
  for (const url of [
    '/live/a%20b.flv',
    '/live/caf%C3%A9.flv',
    '/live/..%2Fx.flv',
    '/live/%2e%2e.flv',
    '/../x.flv',
  ]) {
    assert.equal(parseMediaPath(url), null, url);
  }
});

test('record path: a long key (128-byte name) still makes a file name under 255 bytes', () => {
  const name = 'n'.repeat(128);
  const p = recordFilePath('/rec', `live/${name}`, at, 'rtmp-0a1b2c3d', 'flv');
  assert.ok(p.split('/').every((seg) => Buffer.byteLength(seg) <= 255));
});
