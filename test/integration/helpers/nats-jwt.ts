import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from '@nats-io/jwt';

/** Subjects one user may publish / subscribe (JWT user permissions). */
export interface JwtUser {
  name: string;
  pub: string[];
  sub: string[];
}

export interface OperatorSetup {
  /** nats-server.conf lines: the operator JWT and a memory resolver preloaded with the account. */
  config: string;
  /** `.creds` file path per user name. */
  creds: Record<string, string>;
}

/**
 * Decentralized (operator-mode) NATS auth made in the test: an operator, one account signed by
 * it, and users signed by the account, each written as a `.creds` file (user JWT + nkey seed),
 * the way `nsc` would. Keys are fresh per call, so nothing secret is checked in.
 */
export async function makeOperatorSetup(users: JwtUser[]): Promise<OperatorSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-jwt-'));
  const operator = createOperator();
  const account = createAccount();
  const operatorJwt = await encodeOperator('sluice-test-operator', operator);
  // An account JWT without limits allows nothing (0 connections): -1 = unlimited, as nsc does.
  const limits = {
    conn: -1,
    subs: -1,
    data: -1,
    payload: -1,
    imports: -1,
    exports: -1,
    leaf: -1,
    wildcards: true,
  };
  const accountJwt = await encodeAccount('SLUICE', account, { limits }, { signer: operator });
  const creds: Record<string, string> = {};
  for (const u of users) {
    const kp = createUser();
    const jwt = await encodeUser(u.name, kp, account, { pub: { allow: u.pub }, sub: { allow: u.sub } });
    const file = join(dir, `${u.name}.creds`);
    writeFileSync(file, fmtCreds(jwt, kp), { mode: 0o600 });
    creds[u.name] = file;
  }
  const config = [
    `operator: "${operatorJwt}"`,
    'resolver: MEMORY',
    `resolver_preload: {\n  ${account.getPublicKey()}: "${accountJwt}"\n}`,
  ].join('\n');
  return { config, creds };
}
