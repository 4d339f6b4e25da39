import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { ConfigError } from '../../../libs/config/load.ts';
import { readTlsListeners } from '../../../services/node/tls-files.ts';
import { makeTestPki, type TestPki } from '../../integration/helpers/tls.ts';

const run = promisify(execFile);

let pki: TestPki;
/** Extra files made from the PKI: an encrypted key, garbage, a chain (leaf + CA). */
let files: { encryptedKey: string; garbage: string; chain: string };

test.before(async () => {
  pki = await makeTestPki();
  const encryptedKey = join(pki.dir, 'server-key.enc.pem');
  await run('openssl', [
    'pkcs8',
    '-topk8',
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:secret',
    '-in',
    pki.serverKey,
    '-out',
    encryptedKey,
  ]);
  const garbage = join(pki.dir, 'garbage.pem');
  writeFileSync(
    garbage,
    '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n',
  );
  const chain = join(pki.dir, 'chain.pem');
  writeFileSync(chain, readFileSync(pki.serverCert, 'utf8') + readFileSync(pki.ca, 'utf8'));
  files = { encryptedKey, garbage, chain };
});

const on = (certFile: string, keyFile: string) => ({ enabled: true, listen: ':0', certFile, keyFile });

/** The problems a ConfigError lists, or a failure when none is thrown. */
function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test('enabled listeners get the PEM texts; disabled or absent ones are not read at all', () => {
  const creds = readTlsListeners({
    rtmps: on(pki.serverCert, pki.serverKey),
    https: { enabled: false, listen: ':0', certFile: '/nonexistent/cert.pem', keyFile: '' },
  });
  assert.equal(creds.rtmps?.cert, readFileSync(pki.serverCert, 'utf8'));
  assert.equal(creds.rtmps?.key, readFileSync(pki.serverKey, 'utf8'));
  assert.equal(creds.https, undefined);
  assert.deepEqual(readTlsListeners({ rtmps: undefined, https: undefined }), {});
});

test('a chain file (leaf, then its CA) is accepted: the key matches the first certificate', () => {
  const creds = readTlsListeners({ https: on(files.chain, pki.serverKey) });
  assert.match(creds.https?.cert ?? '', /BEGIN CERTIFICATE[\s\S]*BEGIN CERTIFICATE/);
});

// Each bad setting is one problem naming the key and the file; none quotes a file's contents.
const cases: { name: string; cfg: () => ReturnType<typeof on>; problem: () => RegExp }[] = [
  {
    name: 'missing cert file',
    cfg: () => on(join(pki.dir, 'missing.pem'), pki.serverKey),
    problem: () => new RegExp(`^rtmps\\.certFile: cannot read ${join(pki.dir, 'missing.pem')} \\(ENOENT\\)$`),
  },
  {
    name: 'missing key file',
    cfg: () => on(pki.serverCert, join(pki.dir, 'nokey.pem')),
    problem: () => new RegExp(`^rtmps\\.keyFile: cannot read ${join(pki.dir, 'nokey.pem')} \\(ENOENT\\)$`),
  },
  {
    name: 'a directory as the cert',
    cfg: () => on(pki.dir, pki.serverKey),
    problem: () => new RegExp(`^rtmps\\.certFile: cannot read ${pki.dir} \\(EISDIR\\)$`),
  },
  {
    name: 'garbage key',
    cfg: () => on(pki.serverCert, files.garbage),
    problem: () => new RegExp(`^rtmps\\.keyFile: ${files.garbage} is not an unencrypted PEM private key$`),
  },
  {
    name: 'an encrypted key (no passphrase setting)',
    cfg: () => on(pki.serverCert, files.encryptedKey),
    problem: () =>
      new RegExp(`^rtmps\\.keyFile: ${files.encryptedKey} is not an unencrypted PEM private key$`),
  },
  {
    name: 'a key where the certificate should be',
    cfg: () => on(pki.serverKey, pki.serverKey),
    problem: () => new RegExp(`^rtmps\\.certFile: ${pki.serverKey} is not a PEM certificate$`),
  },
  {
    name: 'a certificate where the key should be',
    cfg: () => on(pki.serverCert, pki.serverCert),
    problem: () => new RegExp(`^rtmps\\.keyFile: ${pki.serverCert} is not an unencrypted PEM private key$`),
  },
  {
    name: "another certificate's key",
    cfg: () => on(pki.serverCert, pki.clientKey),
    problem: () =>
      new RegExp(
        `^rtmps\\.keyFile: ${pki.clientKey} is not the private key of the certificate in ${pki.serverCert}$`,
      ),
  },
  {
    name: 'no cert file configured',
    cfg: () => on('', pki.serverKey),
    problem: () => /^rtmps\.certFile: required when rtmps\.enabled is true$/,
  },
];

for (const c of cases) {
  test(`startup check: ${c.name}`, () => {
    const problems = problemsOf(() => readTlsListeners({ rtmps: c.cfg() }));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, c.problem());
    const keyBody = readFileSync(pki.serverKey, 'utf8').split('\n')[1]!;
    assert.ok(!problems[0]!.includes(keyBody), 'no key material in the message');
    assert.ok(!problems[0]!.includes('BEGIN'), 'no PEM text in the message');
  });
}

test('problems of both listeners are reported together, each under its own key', () => {
  const problems = problemsOf(() =>
    readTlsListeners({ rtmps: on('', ''), https: on(pki.serverCert, files.garbage) }),
  );
  assert.deepEqual(problems, [
    'rtmps.certFile: required when rtmps.enabled is true',
    'rtmps.keyFile: required when rtmps.enabled is true',
    `https.keyFile: ${files.garbage} is not an unencrypted PEM private key`,
  ]);
});
