import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from '../../../libs/webhook/signature.ts';

describe('webhook signature', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed sha256=', () => {
    const body = '{"hook":"on_pub_start","stream_name":"cam"}';
    // Computed here by hand, independently of the module's own concatenation.
    const expected = createHmac('sha256', 'k3y')
      .update(Buffer.from('1700000000.' + body, 'utf8'))
      .digest('hex');
    assert.equal(signWebhook('k3y', 1700000000, body), `sha256=${expected}`);
    // A fixed vector (RFC 4231 style check that the key and message are not swapped).
    assert.equal(
      signWebhook('key', 0, 'x'),
      'sha256=' + createHmac('sha256', 'key').update('0.x').digest('hex'),
    );
    assert.notEqual(
      signWebhook('key', 0, 'x'),
      'sha256=' + createHmac('sha256', '0.x').update('key').digest('hex'),
    );
  });

  it('verifies, and refuses another body, another secret, bad or stale timestamps', () => {
    const sig = signWebhook('s', 1000, 'body');
    assert.deepEqual(verifyWebhook('s', { signature: sig, timestamp: '1000' }, 'body', 1010), { ok: true });
    assert.deepEqual(verifyWebhook('s', { signature: sig, timestamp: '1000' }, 'body!', 1010), {
      ok: false,
      why: 'bad-signature',
    });
    assert.deepEqual(verifyWebhook('t', { signature: sig, timestamp: '1000' }, 'body', 1010), {
      ok: false,
      why: 'bad-signature',
    });
    assert.deepEqual(verifyWebhook('s', { signature: sig, timestamp: '1000' }, 'body', 2000), {
      ok: false,
      why: 'too-old',
    });
    assert.deepEqual(verifyWebhook('s', { signature: sig, timestamp: '1e3' }, 'body', 1000), {
      ok: false,
      why: 'bad-timestamp',
    });
  });
});
