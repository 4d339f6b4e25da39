import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPath } from '../../../libs/http/media-path.ts';

const cases: [string, { key: string; ext: string; query?: Record<string, string> } | null][] = [
  ['/live/test.flv', { key: 'live/test', ext: 'flv' }],
  ['/live/test.FLV?token=abc', { key: 'live/test', ext: 'flv', query: { token: 'abc' } }],
  ['/a/b/c.m3u8', { key: 'a/b/c', ext: 'm3u8' }],
  ['/live/te%73t.flv', { key: 'live/test', ext: 'flv' }],
  ['/test.flv', null],
  ['/live/.flv', null],
  ['/live/test', null],
  ['/../etc/passwd.flv', null],
  ['/live/..%2F..%2Fetc.flv', null],
  ['/live/%ZZ.flv', null],
  ['/live//x.flv', null],
  ['/live/a b.flv', null],
  [`/live/${'x'.repeat(2000)}.flv`, null],
  // Valid segments making a key over MAX_KEY_LENGTH (512), which the registry refuses.
  [`/${'a/'.repeat(300)}b.flv`, null],
];
for (const [url, want] of cases) {
  test(`media path: ${url.slice(0, 40)}`, () => {
    const got = parseMediaPath(url);
    if (want === null) assert.equal(got, null);
    else {
      assert.equal(got?.key, want.key);
      assert.equal(got?.ext, want.ext);
      assert.deepEqual(got?.query, want.query ?? {});
    }
  });
}
