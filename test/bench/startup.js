#!/usr/bin/env node
// Startup time and idle memory of `sluice standalone`: spawn to the "listening" log line, and
// VmRSS after a few idle seconds. Plain JavaScript, so nothing but the measured entry point
// loads a TypeScript loader.
//   node test/bench/startup.js [--runs 7] [--idle-ms 3000] [--entry bin/sluice.js]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'idle-ms': { type: 'string', default: '3000' },
    entry: { type: 'string', default: 'bin/sluice.js' },
  },
});
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);
const entry = resolve(values.entry);

/** @returns {Promise<{ startMs: number, rssMb: number }>} */
function once() {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [entry, 'standalone'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SLUICE_NODE_ID: 'startup-bench',
        SLUICE_RTMP_LISTEN: '127.0.0.1:0',
        SLUICE_HTTP_LISTEN: '127.0.0.1:0',
        SLUICE_RTSP_LISTEN: '127.0.0.1:0',
        SLUICE_API_LISTEN: '127.0.0.1:0',
      },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"sluice node listening"')) return;
      const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
      setTimeout(() => {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
        child.removeAllListeners('exit');
        child.once('exit', () => ok({ startMs, rssMb }));
        child.kill('SIGTERM');
      }, idleMs);
    });
  });
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const starts = [];
const rss = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  starts.push(r.startMs);
  rss.push(r.rssMb);
}
/** @param {number[]} xs @param {string} unit */
const fmt = (xs, unit) =>
  `median ${median(xs).toFixed(0)} ${unit} (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
process.stdout.write(
  `${values.entry} on Node ${process.version}, ${runs} runs\n` +
    `  start to listening: ${fmt(starts, 'ms')}\n` +
    `  idle RSS after ${idleMs} ms: ${fmt(rss, 'MB')}\n`,
);
