import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { WebhookSender, redactUrl } from '../../../libs/webhook/sender.ts';
import { signWebhook } from '../../../libs/webhook/signature.ts';

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function sender(
  answer: (c: Call, n: number) => Promise<number>,
  o: Partial<{ queueSize: number; concurrency: number; retries: number }> = {},
): { s: WebhookSender; calls: Call[]; counters: Counters } {
  const calls: Call[] = [];
  const counters = new Counters();
  const s = new WebhookSender({
    secret: 'shh',
    timeoutMs: 1000,
    retries: o.retries ?? 3,
    retryBaseMs: 5,
    retryMaxMs: 20,
    queueSize: o.queueSize ?? 100,
    concurrency: o.concurrency ?? 4,
    log: silentLogger(),
    counters,
    post: (url, headers, body) => {
      const c = { url, headers, body };
      calls.push(c);
      return answer(c, calls.length);
    },
  });
  return { s, calls, counters };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

function count(c: Counters, name: string, labels: Record<string, string>): number {
  const series = c.snapshot()[name];
  if (!Array.isArray(series)) return 0;
  const want = JSON.stringify(labels);
  return series.find((x) => JSON.stringify(x.labels) === want)?.value ?? 0;
}

describe('WebhookSender', () => {
  it('retries 500s with the same event id and a fresh, valid signature each time', async () => {
    const { s, calls, counters } = sender((_c, n) => Promise.resolve(n <= 2 ? 500 : 200));
    const id = s.send('on_pub_start', 'http://127.0.0.1:1/h', 'live/a', { a: 1 });
    assert.ok(id);
    await until(() => count(counters, 'webhook_sent', { event: 'on_pub_start' }) === 1);
    assert.equal(calls.length, 3);
    for (const [i, c] of calls.entries()) {
      assert.equal(c.headers['X-Sluice-Event-Id'], id);
      assert.equal(c.headers['X-Sluice-Attempt'], String(i + 1));
      const ts = Number(c.headers['X-Sluice-Timestamp']);
      assert.equal(c.headers['X-Sluice-Signature'], signWebhook('shh', ts, c.body));
      assert.equal(c.body, '{"a":1}');
    }
    assert.equal(count(counters, 'webhook_retries', { event: 'on_pub_start' }), 2);
    await s.close();
  });

  it('does not retry a 404, gives up after its retries on network errors', async () => {
    const { s, calls, counters } = sender((c) =>
      c.url.endsWith('/404') ? Promise.resolve(404) : Promise.reject(new TypeError('fetch failed')),
    );
    s.send('on_sub_start', 'http://x/404', 'k', {});
    s.send('on_sub_stop', 'http://x/down', 'k', {});
    await until(() => calls.filter((c) => c.url.endsWith('/down')).length === 4 && s.queued === 0);
    assert.equal(calls.filter((c) => c.url.endsWith('/404')).length, 1);
    assert.equal(count(counters, 'webhook_failed', { event: 'on_sub_start', reason: 'rejected' }), 1);
    assert.equal(count(counters, 'webhook_failed', { event: 'on_sub_stop', reason: 'retries_exhausted' }), 1);
    await s.close();
  });

  it('bounds the queue: a hung receiver fills it and the rest are dropped and counted', async () => {
    const hang = new Promise<number>(() => {});
    const { s, calls, counters } = sender(() => hang, { queueSize: 5, concurrency: 2 });
    const ids = Array.from({ length: 12 }, (_, i) => s.send('on_update', 'http://x/h', `k${i}`, { i }));
    assert.equal(ids.filter(Boolean).length, 5);
    assert.equal(count(counters, 'webhook_dropped', { event: 'on_update', reason: 'queue_full' }), 7);
    assert.equal(calls.length, 2, 'at most `concurrency` requests in flight');
    await s.close(10);
    assert.equal(count(counters, 'webhook_dropped', { event: 'on_update', reason: 'closed' }), 3);
  });

  it("delivers a stream's events in order even when the first needs retries", async () => {
    const seen: string[] = [];
    let failsLeft = 2;
    const { s } = sender(async (c) => {
      const { n } = JSON.parse(c.body) as { n: string };
      await new Promise((r) => setTimeout(r, n === 'start' ? 5 : 0));
      if (n === 'start' && failsLeft-- > 0) return 503;
      seen.push(n);
      return 204;
    });
    s.send('on_pub_start', 'http://x/h', 'live/a', { n: 'start' });
    s.send('on_pub_stop', 'http://x/h', 'live/a', { n: 'stop' });
    s.send('on_pub_start', 'http://x/h', 'live/b', { n: 'b' });
    await until(() => seen.length === 3);
    assert.ok(seen.indexOf('start') < seen.indexOf('stop'), seen.join());
    assert.equal(seen[0], 'b', 'another stream is not held up');
    await s.close();
  });

  it('logs URLs without credentials or query', () => {
    assert.equal(redactUrl('https://u:p@h:8/hook?token=x'), 'https://h:8/hook');
  });
});
