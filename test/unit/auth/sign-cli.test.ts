import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery } from '../../../libs/auth/query.ts';
import { verifySignature } from '../../../libs/auth/signed-url.ts';
import { signCommand } from '../../../services/cli/sign.ts';

const SECRET = 'cli-secret-0123456789abc';

function run(argv: string[], env: NodeJS.ProcessEnv = { SLUICE_SIGN_SECRET: SECRET }) {
  let out = '';
  let err = '';
  const code = signCommand(
    argv,
    env,
    (s) => (out += s),
    (s) => (err += s),
    1_000_000,
  );
  return { code, out, err };
}

test('sluice sign prints a query the node verifies, or a whole URL', () => {
  const r = run(['--action', 'play', '--key', 'live/x', '--ttl', '60']);
  assert.equal(r.code, 0, r.err);
  const q = parseQuery(r.out.trim());
  assert.equal(q.expires, '1000060');
  assert.equal(
    verifySignature({ secrets: [SECRET], action: 'play', key: 'live/x', query: q, nowS: 1_000_000 }),
    'ok',
  );
  const u = run(['--action', 'publish', '--key', 'live/x', '--url', 'rtmp://h:1935/']);
  assert.match(u.out, /^rtmp:\/\/h:1935\/live\/x\?expires=1003600&sign=[0-9a-f]{64}\n$/);
});

test('sluice sign refuses bad arguments and a missing secret', () => {
  assert.equal(run(['--action', 'view', '--key', 'live/x']).code, 2);
  assert.equal(run(['--action', 'play', '--key', 'nokey']).code, 2);
  assert.equal(run(['--action', 'play', '--key', 'live/x', '--ttl', '-1']).code, 2);
  const r = run(['--action', 'play', '--key', 'live/x'], {});
  assert.equal(r.code, 2);
  assert.match(r.err, /SLUICE_SIGN_SECRET/);
});
