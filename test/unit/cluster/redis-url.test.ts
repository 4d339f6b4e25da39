import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRedisUrl, parseRedisUrl, RedisUrlError } from '../../../libs/cluster/redis-url.ts';
import { bad, good } from './redis-url-cases.ts';

for (const [url, want] of good) {
  test(`redis url: ${url}`, () => {
    const t = parseRedisUrl(url);
    assert.deepEqual(t, want);
    // Formatting with the passwords gives a URL that parses to the same target.
    assert.deepEqual(parseRedisUrl(formatRedisUrl(t, true)), want);
    const shown = formatRedisUrl(t);
    for (const secret of [t.password, t.topology === 'sentinel' ? t.sentinelPassword : undefined]) {
      if (secret) assert.ok(!shown.includes(encodeURIComponent(secret)), `${shown} shows a password`);
    }
    if (t.password) assert.match(shown, /:\*\*\*@/);
  });
}

for (const [url, message] of bad) {
  test(`redis url: rejects ${JSON.stringify(url.slice(0, 60))}`, () => {
    assert.throws(
      () => parseRedisUrl(url),
      (e: unknown) => e instanceof RedisUrlError && e.code === 'REDIS_URL_INVALID' && message.test(e.message),
    );
  });
}

test('redis url: errors never echo a password, even one that breaks the URL apart', () => {
  // Unencoded '/', '?' and ':' end the user info early: what follows lands in host, port or path.
  for (const url of [
    'redis://:hunter2/x@h:6379',
    'redis://u:hunter2?x@h',
    'redis://u:hun:ter2/x@h',
    'redis://hunter2/x@h',
    'redis-sentinel://:hunter2@s1/m?sentinelPassword=hunter2%zz',
  ]) {
    assert.throws(
      () => parseRedisUrl(url),
      (e: unknown) =>
        e instanceof RedisUrlError && !e.message.includes('hunter') && !e.message.includes('ter2'),
      url,
    );
  }
});
