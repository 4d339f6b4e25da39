import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SchedulerServer } from '../../../services/scheduler/server.ts';
import { harness } from './fixtures.ts';

// The scheduler's request log never shows query values (a /play URL may carry a signature).

test('the debug request line redacts the query of /play URLs', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const h = harness();
  const server = new SchedulerServer({
    scheduler: h.core.scheduler,
    counters: h.counters,
    log: pino({ level: 'debug' }, sink),
    nodeId: 'sched-log',
    status: h.core.status,
    gauges: h.core.gauges,
  });
  const { port } = await server.listen('127.0.0.1', 0);
  const secret = 'f'.repeat(64);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: `/play/live/a.flv?expires=9&sign=${secret}` },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end();
  });
  await server.close();
  const text = lines.join('');
  assert.match(text, /sign=\*\*\*/);
  assert.ok(!text.includes(secret), text);
});
