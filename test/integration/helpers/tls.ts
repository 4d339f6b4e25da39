import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM file paths of a throwaway PKI made for one test run. */
export interface TestPki {
  dir: string;
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** `CN=127.0.0.1`, SAN IP:127.0.0.1, serverAuth. */
  serverCert: string;
  serverKey: string;
  /** `CN=sluice-node`, clientAuth: for servers that verify clients. */
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA: trusting it instead of `ca` must fail verification. */
  otherCa: string;
}

const openssl = async (cwd: string, ...args: string[]): Promise<void> => {
  await run('openssl', args, { cwd });
};

/** A self-signed CA (EC P-256, valid 2 days) as `<name>.pem` + `<name>-key.pem`. */
async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  writeFileSync(
    join(dir, `${name}.ext`),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`);
  await openssl(dir, 'req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-signkey',
    `${name}-key.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

/** A leaf certificate signed by `ca`, with the given extensions. */
async function makeLeaf(dir: string, ca: string, name: string, cn: string, ext: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.ec.pem`);
  // PKCS#8, the form both Node and Go read without hints.
  await openssl(dir, 'pkcs8', '-topk8', '-nocrypt', '-in', `${name}-key.ec.pem`, '-out', `${name}-key.pem`);
  await openssl(dir, 'req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

/** Generates a CA, a server and a client certificate for 127.0.0.1, and an unrelated CA, with the openssl CLI. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  await Promise.all([makeCa(dir, 'ca', 'Sluice Test CA'), makeCa(dir, 'other-ca', 'Some Other CA')]);
  await Promise.all([
    makeLeaf(
      dir,
      'ca',
      'server',
      '127.0.0.1',
      'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    ),
    makeLeaf(dir, 'ca', 'client', 'sluice-node', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n'),
  ]);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
    otherCa: join(dir, 'other-ca.pem'),
  };
}
