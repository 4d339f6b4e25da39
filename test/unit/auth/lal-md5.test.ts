import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLalSecret, lalSecret } from '../../../libs/auth/lal-md5.ts';

// lal's own test values (pkg/logic/simple_auth_test.go): key q191201771, stream test110.
const KEY = 'q191201771';
const SECRET = '700997e1595a06c9ffa60ebef79105b0';

test("lal's documented example: md5(key + stream name)", () => {
  assert.equal(lalSecret(KEY, 'test110'), SECRET);
});

test('lal_secret: right, upper case, wrong, missing, another stream, dangerous_lal_secret', () => {
  const cfg = { key: KEY, dangerousLalSecret: '' };
  assert.equal(checkLalSecret({ lal_secret: SECRET }, 'test110', cfg), 'ok');
  assert.equal(checkLalSecret({ lal_secret: SECRET.toUpperCase() }, 'test110', cfg), 'ok');
  assert.equal(checkLalSecret({ lal_secret: SECRET }, 'test111', cfg), 'bad_secret');
  assert.equal(checkLalSecret({ lal_secret: 'x' }, 'test110', cfg), 'bad_secret');
  assert.equal(checkLalSecret({}, 'test110', cfg), 'missing');
  assert.equal(checkLalSecret({ lal_secret: '' }, 'test110', cfg), 'missing');
  const dangerous = { key: KEY, dangerousLalSecret: 'letmein' };
  assert.equal(checkLalSecret({ lal_secret: 'letmein' }, 'anything', dangerous), 'ok');
  assert.equal(checkLalSecret({ lal_secret: 'letmein' }, 'anything', cfg), 'bad_secret');
  const mixed = { key: KEY, dangerousLalSecret: 'LetMeIn' };
  assert.equal(
    checkLalSecret({ lal_secret: 'LetMeIn' }, 'anything', mixed),
    'ok',
    'a mixed-case fixed secret',
  );
  assert.equal(checkLalSecret({ lal_secret: 'letmein' }, 'anything', mixed), 'bad_secret');
});
