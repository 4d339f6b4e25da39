import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCallbackAnswer } from '../../../libs/auth/callback-answer.ts';
import { DecisionCache } from '../../../libs/auth/decision-cache.ts';

test('callback answers: {"code":0} or a bare 0 with a 2xx allows; anything else refuses', () => {
  const allow = [
    [200, '{"code":0}'],
    [200, ' 0\n'],
    [204, '0'],
    [200, '{"code":0,"data":{"x":1}}'],
  ] as const;
  for (const [status, body] of allow) assert.equal(parseCallbackAnswer(status, body).allow, true, body);
  const deny = [
    [200, '{"code":1}'],
    [200, '{"code":"0"}'],
    [200, ''],
    [200, 'ok'],
    [200, '1'],
    [200, '[0]'],
    [200, 'null'],
    [200, '{}'],
    [403, '{"code":0}'],
    [302, '0'],
    [500, '0'],
  ] as const;
  for (const [status, body] of deny)
    assert.equal(parseCallbackAnswer(status, body).allow, false, `${status} ${body}`);
});

test('decision cache: entries expire after their ttl and the oldest go first over the bound', () => {
  const c = new DecisionCache<string>(1000, 2);
  c.set('a', 'A', 0);
  assert.equal(c.get('a', 999), 'A');
  assert.equal(c.get('a', 1000), undefined);
  c.set('a', 'A', 0);
  c.set('b', 'B', 1);
  c.set('c', 'C', 2);
  assert.equal(c.size, 2);
  assert.equal(c.get('a', 3), undefined);
  assert.equal(c.get('b', 3), 'B');
  assert.equal(c.get('c', 3), 'C');
  const off = new DecisionCache<string>(0, 10);
  off.set('a', 'A', 0);
  assert.equal(off.get('a', 0), undefined);
});
