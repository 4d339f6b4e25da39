import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsUrlError, parseNatsUrl, type NatsTarget } from '../../../libs/cluster/nats-url.ts';

const ok: [string, NatsTarget][] = [
  ['nats://127.0.0.1:4222', { servers: ['127.0.0.1:4222'], tls: false, auth: null }],
  ['nats://nats.internal', { servers: ['nats.internal:4222'], tls: false, auth: null }],
  ['tls://nats.example.com:4443', { servers: ['nats.example.com:4443'], tls: true, auth: null }],
  ['TLS://Nats.Example.com', { servers: ['Nats.Example.com:4222'], tls: true, auth: null }],
  ['nats://[::1]:4333', { servers: ['[::1]:4333'], tls: false, auth: null }],
  [
    'nats://a:4222, nats://b:4223,nats://c',
    { servers: ['a:4222', 'b:4223', 'c:4222'], tls: false, auth: null },
  ],
  // One tls:// server makes the whole connection require TLS (nats.js has one TLS setting).
  ['nats://a:4222,tls://b:4222', { servers: ['a:4222', 'b:4222'], tls: true, auth: null }],
  ['tls://s3cr3t@h:1', { servers: ['h:1'], tls: true, auth: { token: 's3cr3t' } }],
  ['nats://t%2Fk%40n%3Ae@h', { servers: ['h:4222'], tls: false, auth: { token: 't/k@n:e' } }],
  ['tls://node:pw@h', { servers: ['h:4222'], tls: true, auth: { user: 'node', pass: 'pw' } }],
  [
    'nats://us%40r:p%40ss%20w%3Ard%2C@h:4222',
    { servers: ['h:4222'], tls: false, auth: { user: 'us@r', pass: 'p@ss w:rd,' } },
  ],
  // An unencoded @ in the password: the last @ ends the userinfo.
  ['nats://u:p@ss@h', { servers: ['h:4222'], tls: false, auth: { user: 'u', pass: 'p@ss' } }],
  [
    'tls://u:p@a:1,tls://b:2,tls://u:p@c:3',
    { servers: ['a:1', 'b:2', 'c:3'], tls: true, auth: { user: 'u', pass: 'p' } },
  ],
];

for (const [url, want] of ok) {
  test(`parses ${url}`, () => assert.deepEqual(parseNatsUrl(url), want));
}

const bad: [string, RegExp][] = [
  ['http://h:4222', /scheme http:\/\/ \(expected nats:\/\/ or tls:\/\/\)/],
  ['redis://u:topsecret@h', /scheme redis:/],
  ['ws://h:8080', /scheme ws:/],
  ['h:4222', /scheme h:/],
  ['127.0.0.1:4222', /not a URL/],
  ['nats://h:99999', /not a URL/],
  ['', /empty/],
  ['nats://a,,nats://b', /server 2 of 3 is empty/],
  ['nats://a,http://b', /server 2 of 2 has scheme http:/],
  ['nats:h', /no host/],
  ['nats://:topsecret@h', /password but no user/],
  ['nats://%E0%A4%A@h', /badly percent-encoded/],
  ['nats://u:topsecret@a,nats://u:other@b', /server 2 of 2 carries other credentials than server 1/],
  ['nats://tok@a,nats://u:topsecret@b', /other credentials/],
];

for (const [url, want] of bad) {
  test(`rejects ${JSON.stringify(url)}`, () => {
    assert.throws(
      () => parseNatsUrl(url),
      (e: unknown) => {
        assert.ok(e instanceof NatsUrlError);
        assert.equal(e.code, 'NATS_URL_INVALID');
        assert.match(e.message, want);
        // The message may reach logs and stderr: it never repeats a credential.
        assert.doesNotMatch(e.message, /topsecret/);
        return true;
      },
    );
  });
}
