import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeyPath, parsePlayPath } from '../../../services/scheduler/key-path.ts';

const keyCases: [string, string | null][] = [
  ['live/a', 'live/a'],
  ['live/sub/a', 'live/sub/a'],
  ['live/a.b', 'live/a.b'],
  ['live/a%2Db', 'live/a-b'],
  ['a', null],
  ['', null],
  ['live/', null],
  ['/live/a', null],
  ['live//a', null],
  ['live/../a', null],
  ['live/./a', null],
  ['live/%2e%2e', null],
  ['live/a%2Fb', null],
  ['live/%zz', null],
  ['live/a b', null],
  ['live/a%20b', null],
  ['live/{a}', null],
  ['live/' + 'x'.repeat(129), null],
  [Array.from({ length: 6 }, () => 'y'.repeat(100)).join('/'), null], // > 512 chars: the registry's limit
];

for (const [tail, want] of keyCases) {
  test(`parseKeyPath ${JSON.stringify(tail.slice(0, 40))}`, () => {
    assert.equal(parseKeyPath(tail), want);
  });
}

const playCases: [string, unknown][] = [
  ['/live/a.flv', { key: 'live/a', protocol: 'flv', search: '' }],
  ['/live/a.ts', { key: 'live/a', protocol: 'ts', search: '' }],
  ['/live/a.m3u8', { key: 'live/a', protocol: 'hls', search: '' }],
  ['/live/a.FLV', { key: 'live/a', protocol: 'flv', search: '' }],
  ['/live/sub/a.b.flv', { key: 'live/sub/a.b', protocol: 'flv', search: '' }],
  ['/live/a.flv?token=x%20y&b=1', { key: 'live/a', protocol: 'flv', search: '?token=x+y&b=1' }],
  ['/live/a.rtmp', { error: 'bad-extension' }],
  ['/live/a.__proto__', { error: 'bad-extension' }],
  ['/live/a.constructor', { error: 'bad-extension' }],
  ['/live/a', { error: 'bad-path' }],
  ['/a.flv', { error: 'bad-path' }],
  ['/live/../a.flv', { error: 'bad-path' }],
  ['/live/%zz.flv', { error: 'bad-path' }],
];

for (const [path, want] of playCases) {
  test(`parsePlayPath ${path}`, () => {
    assert.deepEqual(parsePlayPath(path), want);
  });
}
