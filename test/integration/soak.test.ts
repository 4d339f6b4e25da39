import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Judgement, SoakData } from '../soak/verdicts.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
/**
 * 2 minutes of load (a stalled viewer is looked at 60 s after it stopped reading, past the
 * kernel's buffers and the 30 s stall timeout), ~10 s of setup, the end checks (bounded at
 * 15 s each), teardown.
 */
const RUN_TIMEOUT_MS = 210_000;

test(
  'soak, 2 minutes: every verdict holds, and the soak exercised what it claims',
  { timeout: RUN_TIMEOUT_MS + 10_000 },
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sluice-soak-')), 'report.json');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/soak/run.ts', '--minutes', '2', '--out', out],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let report = '';
    let log = '';
    child.stdout.on('data', (d: Buffer) => (report += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(killer);
    assert.ok(code === 0 || code === 1, `soak did not run to its verdicts (exit ${code}):\n${log}`);
    const { pass, judgement, data } = JSON.parse(readFileSync(out, 'utf8')) as {
      pass: boolean;
      judgement: Judgement;
      data: SoakData;
    };

    // The run did what it says: a soak that exercised nothing could not pass for a clean one.
    const v = data.viewers;
    assert.ok(v.started >= data.args.viewers, `viewers started: ${v.started}`);
    for (const proto of ['rtmp', 'flv', 'ws-flv'])
      assert.ok(
        (v.startedBy[`${proto}/normal`] ?? 0) > 50,
        `${proto} viewers: ${JSON.stringify(v.startedBy)}`,
      );
    assert.ok(v.stalledCut > 0, 'stalled viewers were cut by the edges');
    assert.ok((v.outcomes['not-found'] ?? 0) > 0, 'viewers of missing keys were refused');
    assert.ok(
      data.publishers.every((p) => p.restarts >= 1 && Object.keys(p.byOrigin).length === 2),
      'publishers moved',
    );
    assert.ok(data.aborts.hangsClosed > 0, 'hanging mid-handshake clients were closed by the edges');
    for (const name of data.judged) {
      const s = data.series[name] ?? [];
      assert.ok(
        s.filter((x) => x.ok && x.rssBytes !== null && x.heapUsedBytes !== null).length >= 8,
        `memory of ${name}`,
      );
      assert.ok(
        s.some((x) => x.loopP99Ms !== null && x.loopP99Ms > 0),
        `event-loop delay of ${name}`,
      );
    }

    const failed = judgement.verdicts.filter((x) => x.pass === false);
    assert.deepEqual(
      failed.map((x) => `${x.name}: ${x.detail}`),
      [],
      `soak verdicts failed; the report:\n${report}`,
    );
    assert.equal(pass, true);
    assert.equal(code, 0);
  },
);
