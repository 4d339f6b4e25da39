import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery, queryOfUrl, redactQuery } from '../../../libs/auth/query.ts';
import { expandProtocols, inScope } from '../../../libs/auth/scope.ts';

test('queries: first value wins, no __proto__, URLs with fragments', () => {
  assert.deepEqual(parseQuery('?a=1&a=2&b=x%20y&__proto__=z'), { a: '1', b: 'x y' });
  assert.deepEqual(queryOfUrl('rtmp://h:1935/live?sign=ab&expires=9#frag'), { sign: 'ab', expires: '9' });
  assert.deepEqual(queryOfUrl('rtmp://h/live'), {});
});

test('redaction keeps names, hides every value', () => {
  assert.equal(
    redactQuery('rtmp://h/live?sign=abc&expires=1&flag'),
    'rtmp://h/live?sign=***&expires=***&flag',
  );
  assert.equal(redactQuery('/live/x.flv?lal_secret=700997e1'), '/live/x.flv?lal_secret=***');
  assert.equal(redactQuery('/live/x.flv'), '/live/x.flv');
});

test('scopes: groups and labels, empty = all', () => {
  assert.deepEqual([...expandProtocols(['rtmp', 'hls'])!], ['rtmp', 'rtmps', 'hls']);
  assert.equal(expandProtocols([]), null);
  assert.equal(inScope({ actions: ['play'], protocols: ['flv'] }, 'play', 'wss-flv'), true);
  assert.equal(inScope({ actions: ['play'], protocols: ['flv'] }, 'play', 'http-ts'), false);
  assert.equal(inScope({ actions: ['play'], protocols: [] }, 'publish', 'rtmp'), false);
  assert.equal(inScope({ actions: ['publish', 'play'], protocols: ['ws-ts'] }, 'play', 'ws-ts'), true);
});
