import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser, encodeUser, createAccount, fmtCreds } from '@nats-io/jwt';
import {
  checkNatsSettings,
  natsAuthOptions,
  NatsSettingsError,
  type NatsSettings,
} from '../../../libs/cluster/nats-settings.ts';
import { classifyNatsFailure, NatsFailure } from '../../../libs/cluster/nats-failures.ts';
import { makeTestPki, type TestPki } from '../../integration/helpers/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-settings-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

let pki: TestPki;
let creds: string;
let brokenSeedCreds: string;
before(async () => {
  pki = await makeTestPki();
  const user = createUser();
  const text = new TextDecoder().decode(fmtCreds(await encodeUser('u', user, createAccount()), user));
  creds = file('good.creds', text);
  // Same sections, seed with its checksum broken.
  brokenSeedCreds = file(
    'broken.creds',
    text.replace(/\nSU([A-Z2-7]+)\n/, (_m, s: string) => `\nSU${s.slice(0, -4)}AAAA\n`),
  );
});

test('valid settings: each file kind accepted, a CA on nats:// turns TLS on', () => {
  const s: NatsSettings = {
    natsUrl: 'nats://127.0.0.1:4222',
    natsCredsFile: creds,
    natsCaFile: pki.ca,
    natsCertFile: pki.clientCert,
    natsKeyFile: pki.clientKey,
  };
  const target = checkNatsSettings(s);
  assert.deepEqual(target, { servers: ['127.0.0.1:4222'], tls: false, auth: null });
  const o = natsAuthOptions(target, s, '127.0.0.1:4222');
  assert.equal(typeof o.authenticator, 'function');
  assert.ok(o.tls && typeof o.tls === 'object');
  // nats.js names no host for IPs: the certificate is checked against this one.
  assert.equal((o.tls as { host?: string }).host, '127.0.0.1');
  assert.match(String(o.tls.ca), /BEGIN CERTIFICATE/);
  assert.match(String(o.tls.key), /PRIVATE KEY/);
});

test('auth from the URL, TLS only when asked for', () => {
  const plain = { natsUrl: 'nats://tok@nats.internal:4222' };
  const o1 = natsAuthOptions(checkNatsSettings(plain), plain, 'nats.internal:4222');
  assert.deepEqual(o1, { token: 'tok' });
  const tls = { natsUrl: 'tls://u:p%40w@nats.internal:4222,tls://u:p%40w@[::1]:4223' };
  const t = checkNatsSettings(tls);
  assert.deepEqual(natsAuthOptions(t, tls, 'nats.internal:4222'), { user: 'u', pass: 'p@w', tls: {} });
  assert.deepEqual(natsAuthOptions(t, tls, '[::1]:4223'), { user: 'u', pass: 'p@w', tls: { host: '::1' } });
});

test('unusable settings name the setting, never the secret', () => {
  const cases: [Partial<NatsSettings>, string, RegExp][] = [
    [{ natsUrl: 'nats://:secret@h' }, 'natsUrl', /password but no user/],
    [{ natsUrl: 'ws://h' }, 'natsUrl', /scheme ws:/],
    [{ natsCaFile: join(dir, 'missing.pem') }, 'natsCaFile', /cannot read .*missing\.pem \(ENOENT\)/],
    [{ natsCaFile: dir }, 'natsCaFile', /cannot read .* \(EISDIR\)/],
    [{ natsCaFile: file('junk.pem', 'not a cert') }, 'natsCaFile', /is not a PEM certificate/],
    [{ natsCertFile: 'CERT' }, 'natsKeyFile', /needs both/],
    [{ natsKeyFile: 'KEY' }, 'natsCertFile', /needs both/],
    [{ natsCertFile: 'CERT', natsKeyFile: 'CA' }, 'natsKeyFile', /is not an unencrypted PEM private key/],
    [{ natsCredsFile: 'CA' }, 'natsCredsFile', /is not a NATS creds file/],
    [{ natsCredsFile: 'BROKEN' }, 'natsCredsFile', /is not a NATS creds file/],
    [{ natsUrl: 'tls://u:secret@h', natsCredsFile: 'CREDS' }, 'natsCredsFile', /exclude each other/],
  ];
  const real: Record<string, string> = {
    CERT: pki.clientCert,
    KEY: pki.clientKey,
    CA: pki.ca,
    CREDS: creds,
    BROKEN: brokenSeedCreds,
  };
  for (const [over, key, message] of cases) {
    const s = Object.fromEntries(
      Object.entries({ natsUrl: 'nats://h', ...over }).map(([k, v]) => [k, real[v] ?? v]),
    ) as unknown as NatsSettings;
    assert.throws(
      () => checkNatsSettings(s),
      (e: unknown) => {
        assert.ok(e instanceof NatsSettingsError, String(e));
        assert.equal(e.key, key, JSON.stringify(over));
        assert.match(e.message, message);
        assert.doesNotMatch(e.message, /secret/);
        return true;
      },
    );
  }
});

test('connect failures are classified', () => {
  const err = (code: string, message: string, chainedError?: object): object =>
    Object.assign(new Error(message), { code, ...(chainedError ? { chainedError } : {}) });
  const cases: [unknown, string, string][] = [
    [
      err('AUTHORIZATION_VIOLATION', "'Authorization Violation'"),
      NatsFailure.Auth,
      'AUTHORIZATION_VIOLATION',
    ],
    [
      err('AUTHENTICATION_EXPIRED', 'User Authentication Expired'),
      NatsFailure.Auth,
      'AUTHENTICATION_EXPIRED',
    ],
    [
      err('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify'),
      NatsFailure.Tls,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    [
      err('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'),
      NatsFailure.Tls,
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    [err('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed'), NatsFailure.Tls, 'SELF_SIGNED_CERT_IN_CHAIN'],
    [err('SERVER_OPT_NA', 'tls'), NatsFailure.Tls, 'SERVER_OPT_NA'],
    [
      err(
        'CONNECTION_REFUSED',
        'CONNECTION_REFUSED',
        err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      ),
      NatsFailure.Unreachable,
      'ECONNREFUSED',
    ],
    [err('ENOTFOUND', 'getaddrinfo ENOTFOUND nats'), NatsFailure.Unreachable, 'ENOTFOUND'],
    [err('TIMEOUT', 'TIMEOUT'), NatsFailure.Timeout, 'TIMEOUT'],
    [new NatsSettingsError('natsCaFile', 'cannot read x'), NatsFailure.Files, 'NATS_SETTINGS_INVALID'],
    [err('NATS_PROTOCOL_ERR', 'maximum connections exceeded'), NatsFailure.Other, 'NATS_PROTOCOL_ERR'],
    [undefined, NatsFailure.Other, 'UNKNOWN'],
  ];
  for (const [e, reason, code] of cases) {
    const f = classifyNatsFailure(e);
    assert.equal(f.reason, reason, String(code));
    assert.equal(f.code, code);
    assert.ok(f.cause.length > 0);
  }
  assert.match(classifyNatsFailure(err('SERVER_OPT_NA', 'tls')).cause, /does not offer TLS/);
});
