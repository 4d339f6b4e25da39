import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signedQuery, signStream, verifySignature, type AuthAction } from '../../../libs/auth/signed-url.ts';
import { parseQuery } from '../../../libs/auth/query.ts';

const A = 'first-secret-0123456789';
const B = 'second-secret-0123456789';
const NOW = 1_700_000_000;

const verify = (
  query: Record<string, string>,
  o: { secrets?: string[]; action?: AuthAction; key?: string; nowS?: number; maxTtlS?: number } = {},
): string =>
  verifySignature({
    secrets: o.secrets ?? [A],
    action: o.action ?? 'play',
    key: o.key ?? 'live/x',
    query,
    nowS: o.nowS ?? NOW,
    maxTtlS: o.maxTtlS ?? 0,
  });

test('a signature verifies for its action, app, name and secret only', () => {
  const q = parseQuery(signedQuery(A, 'play', 'live/x', NOW + 60));
  assert.equal(verify(q), 'ok');
  assert.equal(verify(q, { secrets: [B] }), 'bad_signature');
  assert.equal(verify(q, { action: 'publish' }), 'bad_signature');
  assert.equal(verify(q, { key: 'live/y' }), 'bad_signature');
  assert.equal(verify(q, { key: 'other/x' }), 'bad_signature');
  // The app/name split is part of what is signed: a/b/c is not a/b + c moved around.
  const deep = parseQuery(signedQuery(A, 'play', 'a/b/c', NOW + 60));
  assert.equal(verify(deep, { key: 'a/b/c' }), 'ok');
  assert.equal(verify(deep, { key: 'a/bc' }), 'bad_signature');
});

test('expired, too long, missing, malformed and tampered signatures are refused', () => {
  const q = parseQuery(signedQuery(A, 'play', 'live/x', NOW + 60));
  assert.equal(verify(q, { nowS: NOW + 60 }), 'expired');
  assert.equal(verify(q, { nowS: NOW + 61 }), 'expired');
  assert.equal(verify(q, { maxTtlS: 30 }), 'too_long');
  assert.equal(verify(q, { maxTtlS: 60 }), 'ok');
  assert.equal(verify({}), 'missing');
  assert.equal(verify({ expires: q.expires! }), 'malformed');
  assert.equal(verify({ ...q, expires: '12x' }), 'malformed');
  assert.equal(verify({ ...q, sign: q.sign!.slice(2) }), 'malformed');
  // Pushing the expiry later invalidates the signature.
  assert.equal(verify({ ...q, expires: String(NOW + 3600) }), 'bad_signature');
  const flipped = (q.sign![0] === 'a' ? 'b' : 'a') + q.sign!.slice(1);
  assert.equal(verify({ ...q, sign: flipped }), 'bad_signature');
  // Upper-case hex is the same signature.
  assert.equal(verify({ ...q, sign: q.sign!.toUpperCase() }), 'ok');
});

test('rotation: a signature made with any configured secret passes', () => {
  const old = parseQuery(signedQuery(A, 'publish', 'live/x', NOW + 60));
  const next = parseQuery(signedQuery(B, 'publish', 'live/x', NOW + 60));
  assert.equal(verify(old, { secrets: [B, A], action: 'publish' }), 'ok');
  assert.equal(verify(next, { secrets: [B, A], action: 'publish' }), 'ok');
  assert.equal(verify(old, { secrets: [B], action: 'publish' }), 'bad_signature');
});

test('the signature is HMAC-SHA256 over action, app, name and expiry, one a line (documented recipe)', async () => {
  const { createHmac } = await import('node:crypto');
  const want = createHmac('sha256', A).update(`play\nlive\nx\n${NOW}`).digest('hex');
  assert.equal(signStream(A, 'play', 'live/x', NOW), want);
});
