import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

// The container image's promise, kept without a container engine: scripts/check-runtime.sh lays
// the production bundle out as deploy/Dockerfile does and runs every role as an unprivileged
// user on a read-only file system (bubblewrap), publishing, playing and stopping each.

const ROOT = new URL('../../', import.meta.url).pathname;
const SKIPPED = 77;

test('the production bundle runs each role unprivileged on a read-only file system', async (t) => {
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('bash', ['scripts/check-runtime.sh'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGTERM'), 240_000);
    p.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, out });
    });
  });
  if (code === SKIPPED) {
    t.skip(out.trim().split('\n').at(-1));
    return;
  }
  t.diagnostic(out.trim());
  assert.equal(code, 0, out);
  for (const role of ['standalone', 'origin-1', 'edge-1', 'scheduler']) {
    assert.match(out, new RegExp(`^check-runtime: ${role}: SIGTERM -> exit 0$`, 'm'));
  }
  for (const played of [
    'standalone: played http',
    'standalone: played rtmp',
    'edge-1: played http',
    'edge-1: played rtmp',
    'scheduler: played http',
    'standalone: console served',
    'scheduler: console served',
  ]) {
    assert.ok(out.includes(`check-runtime: ${played}`), `missing "${played}"`);
  }
  assert.match(out, /PASS/);
});
