import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopDelay, SAMPLE_MS } from '../../../libs/metrics/event-loop-delay.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a 120 ms stall shows in max as about 120 ms beyond the sampling interval; idle windows stay small', async () => {
  const d = new EventLoopDelay(60_000);
  try {
    await sleep(5 * SAMPLE_MS);
    d.roll();
    const idle = d.gauges();
    assert.ok(idle.event_loop_delay_p50_ms < SAMPLE_MS, `idle p50 ${idle.event_loop_delay_p50_ms}`);
    assert.ok(idle.event_loop_delay_max_ms < 60, `idle max ${idle.event_loop_delay_max_ms}`);
    await sleep(2 * SAMPLE_MS);
    const end = performance.now() + 120;
    while (performance.now() < end);
    await sleep(3 * SAMPLE_MS);
    d.roll();
    const g = d.gauges();
    assert.ok(
      g.event_loop_delay_max_ms >= 100 && g.event_loop_delay_max_ms < 400,
      `max ${g.event_loop_delay_max_ms}`,
    );
    assert.equal(d.secondsGauges().event_loop_delay_max_seconds, g.event_loop_delay_max_ms / 1000);
  } finally {
    d.stop();
  }
});
