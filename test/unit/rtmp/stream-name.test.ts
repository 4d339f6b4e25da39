import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { parseStreamName } from '../../../libs/rtmp/stream-name.ts';

const good = [
  { app: 'live', name: 'test', key: 'live/test', query: {} },
  {
    app: 'live?vhost=a',
    name: 'test?token=x&b=1',
    key: 'live/test',
    query: { vhost: 'a', token: 'x', b: '1' },
  },
  { app: '/live/sub/', name: 'cam-1.hd_~', key: 'live/sub/cam-1.hd_~', query: {} },
];
for (const g of good) {
  test(`stream key: ${g.app} + ${g.name} -> ${g.key}`, () => {
    const n = parseStreamName(g.app, g.name);
    assert.equal(n.key, g.key);
    assert.deepEqual(n.query, g.query);
  });
}

const bad = [
  ['live', ''],
  ['live', '..'],
  ['live', '../../etc/passwd'],
  ['live', 'a/b'],
  ['', 'test'],
  ['live/../x', 'test'],
  ['live', 'x'.repeat(129)],
  ['live', 'with space'],
  ['live', 'naïve'],
  // Every segment valid, but the key is over MAX_KEY_LENGTH (512), which the registry refuses.
  [`${'a/'.repeat(300)}a`, 'b'],
  [`${'a'.repeat(128)}/${'b'.repeat(128)}/${'c'.repeat(128)}/${'d'.repeat(128)}`, 'e'],
];
for (const [app, name] of bad) {
  test(`stream key: rejects app=${JSON.stringify(app)} name=${JSON.stringify(name).slice(0, 30)}`, () => {
    assert.throws(() => parseStreamName(app!, name!), ProtocolError);
  });
}

test('stream key: __proto__ in a query cannot pollute objects', () => {
  const n = parseStreamName('live', 'a?__proto__=x&constructor=y');
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(Object.getPrototypeOf(n.query), Object.prototype);
});
