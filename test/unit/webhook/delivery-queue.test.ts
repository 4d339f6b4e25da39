import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryQueue, type NewDelivery } from '../../../libs/webhook/delivery-queue.ts';

const ev = (id: string, orderKey = 'live/a', url = 'http://r/hook'): NewDelivery => ({
  id,
  event: 'on_pub_start',
  url,
  orderKey,
  body: id,
});

describe('DeliveryQueue', () => {
  it('refuses past maxQueued (in flight included) and accepts again once one is done', () => {
    const q = new DeliveryQueue({ maxQueued: 3, concurrency: 10, maxRetries: 0, backoff: () => 0 });
    assert.ok(q.push(ev('1', 'a'), 0));
    assert.ok(q.push(ev('2', 'b'), 0));
    const [first] = q.take(0);
    assert.ok(q.push(ev('3', 'c'), 0));
    assert.equal(q.push(ev('4', 'd'), 0), false);
    assert.equal(q.size, 3);
    assert.equal(q.settle(first!, 'ok', 0), 'delivered');
    assert.ok(q.push(ev('5', 'e'), 0));
  });

  it('keeps a lane in order through retries: nothing behind the head goes before it', () => {
    const q = new DeliveryQueue({ maxQueued: 10, concurrency: 10, maxRetries: 2, backoff: () => 100 });
    q.push(ev('start'), 0);
    q.push(ev('stop'), 0);
    q.push(ev('other', 'live/b'), 0);
    const first = q.take(0);
    assert.deepEqual(
      first.map((d) => d.id),
      ['start', 'other'],
    );
    assert.deepEqual(q.take(0), [], 'the lane is busy: stop waits');
    // start fails: it is retried later, and stop still waits behind it while other lanes go on.
    assert.equal(q.settle(first[0]!, 'retry', 0), 'retrying');
    assert.equal(q.settle(first[1]!, 'ok', 0), 'delivered');
    q.push(ev('other2', 'live/b'), 0);
    assert.deepEqual(
      q.take(50).map((d) => d.id),
      ['other2'],
    );
    const again = q.take(100);
    assert.deepEqual(
      again.map((d) => d.id),
      ['start'],
    );
    assert.equal(q.settle(again[0]!, 'ok', 100), 'delivered');
    assert.deepEqual(
      q.take(100).map((d) => d.id),
      ['stop'],
    );
  });

  it('retries the head after its backoff, then gives up after maxRetries', () => {
    const q = new DeliveryQueue({
      maxQueued: 10,
      concurrency: 1,
      maxRetries: 2,
      backoff: (n) => 100 * (n + 1),
    });
    q.push(ev('start'), 0);
    q.push(ev('stop'), 0);
    let [d] = q.take(0);
    assert.equal(d!.id, 'start');
    assert.equal(q.settle(d!, 'retry', 10), 'retrying');
    assert.equal(q.nextDueAt(), 110);
    assert.deepEqual(q.take(50), [], 'not due yet, and stop may not overtake it');
    [d] = q.take(110);
    assert.equal(d!.id, 'start');
    assert.equal(d!.attempts, 2);
    assert.equal(q.settle(d!, 'retry', 110), 'retrying');
    assert.equal(q.nextDueAt(), 310);
    [d] = q.take(310);
    assert.equal(d!.id, 'start');
    assert.equal(q.settle(d!, 'retry', 310), 'exhausted');
    [d] = q.take(310);
    assert.equal(d!.id, 'stop');
    assert.equal(d!.attempts, 1);
    assert.equal(q.settle(d!, 'fail', 310), 'rejected', 'a 4xx is final');
    assert.equal(q.size, 0);
    assert.equal(q.nextDueAt(), null);
  });

  it('holds at most `concurrency` in flight across lanes', () => {
    const q = new DeliveryQueue({ maxQueued: 10, concurrency: 2, maxRetries: 0, backoff: () => 0 });
    for (const k of ['a', 'b', 'c']) q.push(ev(k, k), 0);
    const got = q.take(0);
    assert.equal(got.length, 2);
    assert.equal(q.inFlight, 2);
    assert.deepEqual(q.take(0), []);
    q.settle(got[0]!, 'ok', 0);
    assert.deepEqual(
      q.take(0).map((d) => d.id),
      ['c'],
    );
  });

  it('clear() hands back what waits, keeping what is in flight', () => {
    const q = new DeliveryQueue({ maxQueued: 10, concurrency: 1, maxRetries: 0, backoff: () => 0 });
    q.push(ev('1'), 0);
    q.push(ev('2'), 0);
    q.push(ev('3', 'x'), 0);
    const [inFlight] = q.take(0);
    assert.deepEqual(
      q.clear().map((d) => d.id),
      ['2', '3'],
    );
    assert.equal(q.size, 1);
    assert.equal(q.settle(inFlight!, 'ok', 0), 'delivered');
    assert.equal(q.size, 0);
  });
});
