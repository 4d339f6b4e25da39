import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { checkAccess, isLoopback, tokenMatches, tokensOf } from '../../../../../services/node/api/auth.ts';
import { resolveKey } from '../../../../../services/node/api/lal-shape.ts';

const req = (remote: string, authorization?: string): IncomingMessage =>
  ({
    socket: { remoteAddress: remote },
    headers: authorization ? { authorization } : {},
  }) as unknown as IncomingMessage;

test('tokensOf: strings, comma lists, arrays and the environment, blanks dropped', () => {
  assert.deepEqual(tokensOf(''), []);
  assert.deepEqual(tokensOf('a, b,,'), ['a', 'b']);
  assert.deepEqual(tokensOf(['a', 'b'], 'b,c'), ['a', 'b', 'c']);
  assert.deepEqual(tokensOf(undefined), []);
});

test('tokenMatches: any accepted token, nothing else', () => {
  assert.equal(tokenMatches('new', ['old', 'new']), true);
  assert.equal(tokenMatches('ne', ['old', 'new']), false);
  assert.equal(tokenMatches('', ['old']), false);
  assert.equal(tokenMatches('x', []), false);
});

test('isLoopback', () => {
  for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '', undefined])
    assert.equal(isLoopback(a), false, String(a));
});

test('checkAccess: the rules by token, address and endpoint kind', () => {
  const none = { tokens: [], protectStats: false };
  const tok = { tokens: ['s3cret'], protectStats: false };
  const guarded = { tokens: ['s3cret'], protectStats: true };
  assert.equal(checkAccess(req('192.0.2.2'), 'control', none), 'not_loopback');
  assert.equal(checkAccess(req('127.0.0.1'), 'control', none), null);
  assert.equal(checkAccess(req('192.0.2.2'), 'stats', none), null);
  assert.equal(checkAccess(req('127.0.0.1'), 'control', tok), 'missing');
  assert.equal(checkAccess(req('127.0.0.1', 'Bearer nope'), 'control', tok), 'wrong');
  assert.equal(checkAccess(req('192.0.2.2', 'Bearer s3cret'), 'control', tok), null);
  assert.equal(checkAccess(req('192.0.2.2', 'bearer s3cret'), 'control', tok), null);
  assert.equal(checkAccess(req('192.0.2.2', 'Basic s3cret'), 'control', tok), 'missing');
  assert.equal(checkAccess(req('192.0.2.2'), 'stats', tok), null);
  assert.equal(checkAccess(req('127.0.0.1'), 'stats', guarded), 'missing');
  assert.equal(checkAccess(req('127.0.0.1'), 'open', guarded), null);
});

test('resolveKey: lal stream_name alone when unambiguous, app_name or a whole key otherwise', () => {
  const keys = ['live/a', 'live/b', 'other/b'];
  assert.deepEqual(resolveKey(keys, 'a'), { ok: true, key: 'live/a' });
  assert.deepEqual(resolveKey(keys, 'b'), { ok: false, ambiguous: true });
  assert.deepEqual(resolveKey(keys, 'b', 'other'), { ok: true, key: 'other/b' });
  assert.deepEqual(resolveKey(keys, 'other/b'), { ok: true, key: 'other/b' });
  assert.deepEqual(resolveKey(keys, 'c'), { ok: false, ambiguous: false });
});
