import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connect as natsConnect,
  credsAuthenticator,
  Events,
  type ConnectionOptions,
  type NatsConnection,
  type Status,
  type TlsOptions,
} from 'nats';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { Subject, type EventMap } from '../../libs/cluster/types.ts';
import { logLines, ORIGIN_CONFIG, publishTo, RtmpViewer } from './helpers/cluster.ts';
import { makeTestFlv, type Child } from './helpers/media.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { makeOperatorSetup, type OperatorSetup } from './helpers/nats-jwt.ts';
import { counter, LogLevel } from './helpers/net.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { getJson, sleep, startRole, waitFor, type SluiceProcess } from './helpers/sluice.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';
import { SLUICE_BIN } from './helpers/build.ts';

// NATS with TLS and credentials, end to end: real nats-servers (TLS, users with the README's
// permissions, a token, operator mode with creds and client certificates), real `sluice origin`
// processes, and raw NATS clients as the other peers.

const ROOT = new URL('../../', import.meta.url).pathname;
/** The file the README shows; the server below includes exactly this file. */
const PERMISSIONS_FILE = join(ROOT, 'deploy/nats/sluice-permissions.conf');
const BIN = SLUICE_BIN;

const hex = (): string => randomBytes(6).toString('hex');
/** Passwords for the permissions file's `$SLUICE_NATS_*_PASSWORD` references. */
const PW = { node: `node-${hex()}`, scheduler: `sched-${hex()}`, reader: `reader-${hex()}` };
/** Characters that must be percent-encoded in a URL. */
const TOKEN = `t0k/en@:${hex()}`;
const WRONG_PASSWORD = `p@ss:w/rd ${hex()}`;
const RIGHT_PASSWORD = `right-${hex()}`;
const RELAY_SECRET = `relay-${hex()}`;

const SPEC = { durationS: 4, width: 320, height: 180, fps: 25, gop: 25, videoKbps: 300 };

const tlsBlock = (pki: TestPki, verifyClients = false): string =>
  [
    'tls {',
    `  cert_file: "${pki.serverCert}"`,
    `  key_file: "${pki.serverKey}"`,
    `  ca_file: "${pki.ca}"`,
    `  verify: ${verifyClients}`,
    '  timeout: 2',
    '}',
  ].join('\n');

let pki: TestPki;
let redis: TestRedis;
let media: string;
let jwt: OperatorSetup;
/** TLS + the README's users and permissions. */
let secured: NatsServer;
/** TLS + one user whose password the test changes (reload). */
let rotating: NatsServer;
/** TLS + a token. */
let tokenServer: NatsServer;
/** Operator mode (JWT/creds) + TLS that requires client certificates. */
let operatorServer: NatsServer;
/** Connected with the right password and CA. */
let tlsOrigin: SluiceProcess;
/** Right CA, wrong password (until the server is told to accept it). */
let wrongPasswordOrigin: SluiceProcess;
/** Right password, a CA that did not sign the server's certificate. */
let wrongCaOrigin: SluiceProcess;
/** Creds file + CA + client certificate and key, URL without credentials. */
let credsOrigin: SluiceProcess;
const clients: NatsConnection[] = [];
const children: Child[] = [];
const viewers: RtmpViewer[] = [];

const origin = (nodeId: string, env: Record<string, string>): Promise<SluiceProcess> =>
  startRole('origin', ORIGIN_CONFIG, {
    SLUICE_NODE_ID: nodeId,
    SLUICE_REDIS_URL: redis.url,
    SLUICE_ADVERTISE_HOST: '127.0.0.1',
    SLUICE_RELAY_SECRET: RELAY_SECRET,
    ...env,
  });

const rotatingConfig = (password: string): string =>
  `${tlsBlock(pki)}\nauthorization { user: sluice, password: "${password}" }`;

before(async () => {
  [pki, redis, media, jwt] = await Promise.all([
    makeTestPki(),
    startRedis(),
    makeTestFlv(SPEC),
    makeOperatorSetup([
      { name: 'node', pub: ['sluice.v1.>', '_INBOX.>'], sub: ['sluice.v1.>', '_INBOX.>'] },
      { name: 'watcher', pub: ['sluice.v1.control.>'], sub: ['sluice.v1.node.>', '_INBOX.>'] },
    ]),
  ]);
  [secured, rotating, tokenServer, operatorServer] = await Promise.all([
    startNats({
      config: tlsBlock(pki),
      include: [PERMISSIONS_FILE],
      env: {
        SLUICE_NATS_NODE_PASSWORD: PW.node,
        SLUICE_NATS_SCHEDULER_PASSWORD: PW.scheduler,
        SLUICE_NATS_READER_PASSWORD: PW.reader,
      },
    }),
    startNats({ config: rotatingConfig(RIGHT_PASSWORD) }),
    startNats({ config: `${tlsBlock(pki)}\nauthorization { token: "${TOKEN}" }` }),
    startNats({ config: `${jwt.config}\n${tlsBlock(pki, true)}` }),
  ]);
  [tlsOrigin, wrongPasswordOrigin, wrongCaOrigin, credsOrigin] = await Promise.all([
    origin('tls-origin', {
      SLUICE_NATS_URL: `tls://sluice-node:${PW.node}@127.0.0.1:${secured.port}`,
      SLUICE_NATS_CA: pki.ca,
    }),
    origin('wrong-password-origin', {
      SLUICE_NATS_URL: `tls://sluice:${encodeURIComponent(WRONG_PASSWORD)}@127.0.0.1:${rotating.port}`,
      SLUICE_NATS_CA: pki.ca,
    }),
    origin('wrong-ca-origin', {
      SLUICE_NATS_URL: `tls://sluice-node:${PW.node}@127.0.0.1:${secured.port}`,
      SLUICE_NATS_CA: pki.otherCa,
    }),
    // nats://, yet TLS: a CA or client certificate implies it (the server requires it anyway).
    origin('creds-origin', {
      SLUICE_NATS_URL: `nats://127.0.0.1:${operatorServer.port}`,
      SLUICE_NATS_CREDS: jwt.creds.node!,
      SLUICE_NATS_CA: pki.ca,
      SLUICE_NATS_CERT: pki.clientCert,
      SLUICE_NATS_KEY: pki.clientKey,
    }),
  ]);
});

after(async () => {
  for (const v of viewers) v.close();
  await Promise.all(children.map((c) => c.kill()));
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.all(
    [tlsOrigin, wrongPasswordOrigin, wrongCaOrigin, credsOrigin].map((o) => o?.stop('SIGKILL')),
  );
  await Promise.all([secured, rotating, tokenServer, operatorServer, redis].map((s) => s?.stop()));
});

/**
 * TLS options of a raw nats.js client trusting the test CA. nats.js v2 names no host for an IP
 * server, so Node would check the certificate against "localhost": `host` (passed on to
 * tls.connect) makes it check 127.0.0.1, as the bus does.
 */
const tlsTo127 = (more: TlsOptions = {}): TlsOptions =>
  Object.assign({ ca: readFileSync(pki.ca, 'utf8'), host: '127.0.0.1' }, more);

/** A raw nats.js client over TLS (trusting the test CA), remembered for after(). */
async function client(server: NatsServer, opts: Partial<ConnectionOptions>): Promise<NatsConnection> {
  const nc = await natsConnect({
    servers: `127.0.0.1:${server.port}`,
    tls: tlsTo127(),
    timeout: 3000,
    ...opts,
  });
  clients.push(nc);
  return nc;
}

/** Every message on `subject`, decoded. */
function record(nc: NatsConnection, subject: string): { subject: string; data: unknown }[] {
  const got: { subject: string; data: unknown }[] = [];
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (!err) got.push({ subject: msg.subject, data: JSON.parse(Buffer.from(msg.data).toString()) });
    },
  });
  return got;
}

/** The `-ERR`s a client receives (permissions violations carry the operation and subject). */
function serverErrors(nc: NatsConnection): Status[] {
  const got: Status[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === Events.Error) got.push(s);
  })();
  return got;
}

const heartbeatFrom = (got: { subject: string; data: unknown }[], nodeId: string): boolean =>
  got.some((m) => m.subject === Subject.NodeHeartbeat && (m.data as { nodeId?: string }).nodeId === nodeId);

const controlStats = async (nc: NatsConnection, nodeId: string): Promise<Record<string, unknown>> => {
  const reply = await nc.request(`sluice.v1.control.${nodeId}`, JSON.stringify({ op: 'stats' }), {
    timeout: 3000,
  });
  return JSON.parse(Buffer.from(reply.data).toString()) as Record<string, unknown>;
};

/** The node still takes a publisher and serves it to an RTMP viewer. */
async function servesMedia(node: SluiceProcess, key: string): Promise<void> {
  children.push(await publishTo(node, media, key));
  const viewer = await RtmpViewer.play(`${node.rtmp}/${key}`);
  viewers.push(viewer);
  await waitFor(() => viewer.videoFrames().length >= 10, 8000, `${key} playing`);
  assert.equal((await fetch(`${node.api}/healthz`)).status, 200);
}

/** No log line of the node holds any of these strings (raw or percent-encoded). */
function assertNotLogged(node: SluiceProcess, secrets: string[]): void {
  const text = JSON.stringify(node.logs);
  for (const s of secrets) {
    assert.ok(!text.includes(s), 'a secret is in the log');
    assert.ok(!text.includes(encodeURIComponent(s)), 'a percent-encoded secret is in the log');
  }
}

test('an origin on tls:// with user:password@ and SLUICE_NATS_CA: its heartbeats reach a TLS subscriber and a control request is answered', async () => {
  const reader = await client(secured, { user: 'sluice-reader', pass: PW.reader });
  const got = record(reader, 'sluice.v1.>');
  await waitFor(() => heartbeatFrom(got, 'tls-origin'), 8000, 'a heartbeat of tls-origin over TLS');

  const scheduler = await client(secured, { user: 'sluice-scheduler', pass: PW.scheduler });
  const reply = await controlStats(scheduler, 'tls-origin');
  assert.equal(reply.ok, true);
  assert.equal((reply.data as { nodeId: string }).nodeId, 'tls-origin');

  const [connected] = logLines(tlsOrigin, 'NATS connected');
  assert.ok(connected, 'a "NATS connected" line');
  // Servers are logged without their userinfo.
  assert.deepEqual(connected.servers, [`127.0.0.1:${secured.port}`]);
  assertNotLogged(tlsOrigin, [PW.node]);
});

test('the documented permissions: a read-only user hears events but its control request and forged events never reach anyone', async () => {
  // The server runs this file; the README must show the same text.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(
    readme.includes(readFileSync(PERMISSIONS_FILE, 'utf8')),
    'README shows deploy/nats/sluice-permissions.conf',
  );

  // A node-user client hears the node's control subject: it sees every request that gets through.
  const spy = await client(secured, { user: 'sluice-node', pass: PW.node });
  const controlSeen = record(spy, 'sluice.v1.control.tls-origin');
  const publishedSeen = record(spy, Subject.StreamPublished);
  await spy.flush();

  const reader = await client(secured, { user: 'sluice-reader', pass: PW.reader });
  const readerErrors = serverErrors(reader);
  const readerGot = record(reader, 'sluice.v1.>');
  await reader.flush();
  await waitFor(() => heartbeatFrom(readerGot, 'tls-origin'), 5000, 'the reader hearing heartbeats');

  await assert.rejects(controlStats(reader, 'tls-origin'), 'the reader gets no answer');
  const forged: EventMap[typeof Subject.StreamPublished] = {
    v: 1,
    nodeId: 'tls-origin',
    instanceId: 'forged-instance',
    ts: Date.now(),
    key: 'live/forged',
    epoch: 99,
    sessionId: 'forged-1',
  };
  reader.publish(Subject.StreamPublished, JSON.stringify(forged));
  await reader.flush();
  const refused = (subject: string): boolean =>
    readerErrors.some(
      (s) =>
        s.data === 'PERMISSIONS_VIOLATION' &&
        s.permissionContext?.operation === 'publish' &&
        s.permissionContext.subject === subject,
    );
  await waitFor(
    () => refused('sluice.v1.control.tls-origin') && refused(Subject.StreamPublished),
    3000,
    'the server refusing both publishes',
  );

  // The scheduler's request goes through, and the spy sees it: so it would have seen the reader's.
  const scheduler = await client(secured, { user: 'sluice-scheduler', pass: PW.scheduler });
  const schedulerErrors = serverErrors(scheduler);
  assert.equal((await controlStats(scheduler, 'tls-origin')).ok, true);
  await waitFor(() => controlSeen.length >= 1, 3000, 'the spy seeing the scheduler request');
  // The scheduler may ask, but not announce: a forged event from it is refused too.
  scheduler.publish(Subject.StreamPublished, JSON.stringify(forged));
  await scheduler.flush();
  await spy.flush();
  await waitFor(
    () => schedulerErrors.some((s) => s.permissionContext?.subject === Subject.StreamPublished),
    3000,
    'the scheduler refused an event publish',
  );
  await sleep(200);
  assert.equal(controlSeen.length, 1, 'only the scheduler request reached the node subject');
  assert.deepEqual(publishedSeen, [], 'no forged event was delivered');
  assert.equal(
    readerGot.filter((m) => m.subject.startsWith('sluice.v1.control.')).length,
    0,
    'the reader does not see control traffic',
  );
});

test('a token in a tls:// URL (percent-encoded) authenticates the bus', async () => {
  const url = `tls://${encodeURIComponent(TOKEN)}@127.0.0.1:${tokenServer.port}`;
  const bus = new NatsBus({ url, caFile: pki.ca, name: 'token-test' });
  try {
    await Promise.race([
      bus.ready,
      sleep(8000).then(() => {
        throw new Error('the bus did not connect with the token within 8 s');
      }),
    ]);
    assert.equal(bus.connected, true);
    const got: EventMap[typeof Subject.RelayStarted][] = [];
    bus.subscribe(Subject.RelayStarted, (e) => got.push(e));
    await bus.flush();
    const event = {
      v: 1,
      nodeId: 'token-test',
      instanceId: 'token-test-instance',
      ts: Date.now(),
      key: 'live/t',
      fromNodeId: 'o',
      epoch: 1,
    } as const;
    bus.publish(Subject.RelayStarted, event);
    await waitFor(() => got.length === 1, 3000, 'the event round trip');
    assert.deepEqual(got, [event]);
  } finally {
    await bus.close();
  }
});

test('a .creds file (operator mode) with a client certificate (mutual TLS): heartbeats flow and control is answered', async () => {
  const watcher = await client(operatorServer, {
    authenticator: credsAuthenticator(readFileSync(jwt.creds.watcher!)),
    tls: tlsTo127({ cert: readFileSync(pki.clientCert, 'utf8'), key: readFileSync(pki.clientKey, 'utf8') }),
  });
  const got = record(watcher, Subject.NodeHeartbeat);
  await waitFor(() => heartbeatFrom(got, 'creds-origin'), 8000, 'a heartbeat of creds-origin');
  const reply = await controlStats(watcher, 'creds-origin');
  assert.equal(reply.ok, true);
  assertNotLogged(credsOrigin, [readFileSync(jwt.creds.node!, 'utf8').split('\n')[1]!]);
});

test('wrong password: the origin starts, serves media, logs and counts the refusal, keeps retrying, and connects once the server takes its password', async (t) => {
  const node = wrongPasswordOrigin;
  const api = node.api;
  await waitFor(
    () => logLines(node, 'NATS connection failed; retrying').find((l) => l.reason === 'auth'),
    8000,
    'an auth failure line',
  );
  const line = logLines(node, 'NATS connection failed; retrying').find((l) => l.reason === 'auth')!;
  t.diagnostic(`the node's log: ${JSON.stringify(line)}`);
  assert.equal(line.level, LogLevel.error);
  assert.match(String(line.cause), /refused the credentials.*Authorization Violation/);
  assert.equal(line.server, `127.0.0.1:${rotating.port}`);

  await servesMedia(node, 'live/wrong-password');
  const errors = await waitFor(
    async () => {
      const n = await counter(api, 'sluice_nats_connect_errors_total', { reason: 'auth' });
      return n >= 3 ? n : 0;
    },
    8000,
    'three refused attempts',
  );
  // Rate-limited: fewer lines than failures.
  const lines = logLines(node, 'NATS connection failed; retrying').length;
  t.diagnostic(`${errors} refused attempts, ${lines} log line(s)`);
  assert.ok(lines < errors, `${lines} log lines for ${errors} failures`);
  assert.equal(node.proc.exitCode, null, 'still running');
  assert.equal(logLines(node, 'NATS connected').length, 0);

  // The server starts accepting the password the node has (rotated server-side): it connects by itself.
  await rotating.reload(rotatingConfig(WRONG_PASSWORD));
  const sub = await client(rotating, { user: 'sluice', pass: WRONG_PASSWORD });
  const got = record(sub, Subject.NodeHeartbeat);
  const fixedAt = Date.now();
  await waitFor(() => logLines(node, 'NATS connected').length === 1, 5000, 'the node connecting');
  t.diagnostic(`connected ${Date.now() - fixedAt} ms after the server took the password`);
  await waitFor(() => heartbeatFrom(got, 'wrong-password-origin'), 5000, 'its heartbeat');
  assertNotLogged(node, [WRONG_PASSWORD]);
});

test('wrong CA: the origin starts, serves media, logs and counts the TLS failure, keeps retrying, never crashes', async (t) => {
  const node = wrongCaOrigin;
  await waitFor(
    () => logLines(node, 'NATS connection failed; retrying').find((l) => l.reason === 'tls'),
    8000,
    'a TLS failure line',
  );
  const line = logLines(node, 'NATS connection failed; retrying').find((l) => l.reason === 'tls')!;
  t.diagnostic(`the node's log: ${JSON.stringify(line)}`);
  assert.equal(line.level, LogLevel.error);
  assert.match(String(line.code), /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  assert.match(String(line.cause), /^TLS failed: .*(verify|issuer)/);
  await servesMedia(node, 'live/wrong-ca');
  await waitFor(
    async () => (await counter(node.api, 'sluice_nats_connect_errors_total', { reason: 'tls' })) >= 3,
    8000,
    'three TLS failures',
  );
  const stats = await getJson<{
    counters: Record<string, { labels: Record<string, string>; value: number }[]>;
  }>(`${node.api}/api/v1/stats`);
  const tls = (stats.counters.nats_connect_errors ?? []).find((c) => c.labels.reason === 'tls');
  assert.ok((tls?.value ?? 0) >= 3, JSON.stringify(stats.counters));
  assert.equal(node.proc.exitCode, null, 'still running');
  assert.equal(logLines(node, 'NATS connected').length, 0);
  assertNotLogged(node, [PW.node]);
});

test('unusable NATS settings stop a node or the scheduler at startup (exit 1, naming the key)', async (t) => {
  const cases: { role: string; env: Record<string, string>; out: RegExp; secret?: string }[] = [
    {
      role: 'origin',
      env: { SLUICE_NATS_URL: 'nats://:hunter2@127.0.0.1:4222' },
      out: /cluster\.natsUrl: the URL has a password but no user/,
      secret: 'hunter2',
    },
    {
      role: 'edge',
      env: { SLUICE_NATS_URL: 'nats://a:4222,http://u:hunter2@b:4222' },
      out: /cluster\.natsUrl: server 2 of 2 has scheme http:\/\/ \(expected nats:\/\/ or tls:\/\/\)/,
      secret: 'hunter2',
    },
    {
      role: 'edge',
      env: { SLUICE_NATS_CA: '/nonexistent/ca.pem' },
      out: /cluster\.natsCaFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/,
    },
    {
      role: 'origin',
      env: { SLUICE_NATS_CERT: pki.clientCert },
      out: /cluster\.natsKeyFile: a client certificate needs both/,
    },
    {
      role: 'origin',
      env: { SLUICE_NATS_CERT: pki.clientCert, SLUICE_NATS_KEY: pki.ca },
      out: /cluster\.natsKeyFile: .*ca\.pem is not an unencrypted PEM private key/,
    },
    {
      role: 'scheduler',
      env: { SLUICE_NATS_URL: `tls://127.0.0.1:${secured.port}`, SLUICE_NATS_CREDS: pki.ca },
      out: /cluster\.natsCredsFile: .*ca\.pem is not a NATS creds file/,
    },
  ];
  await Promise.all(
    cases.map((k) =>
      t.test(`${k.role} ${JSON.stringify(k.env)}`, async () => {
        const r = await runCli(k.role, {
          SLUICE_REDIS_URL: redis.url,
          SLUICE_SCHEDULER_LISTEN: '127.0.0.1:0',
          SLUICE_RTMP_LISTEN: '127.0.0.1:0',
          SLUICE_HTTP_LISTEN: '127.0.0.1:0',
          SLUICE_RTSP_LISTEN: '127.0.0.1:0',
          SLUICE_API_LISTEN: '127.0.0.1:0',
          ...k.env,
        });
        assert.equal(r.code, 1, `stdout: ${r.output}`);
        assert.match(r.output, k.out);
        if (k.secret) assert.ok(!r.output.includes(k.secret), 'the password is echoed');
      }),
    ),
  );
});

/** `sluice <role>`: exit code and all output; killed (code null) if still running after 15 s. */
async function runCli(
  role: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const p = spawn(process.execPath, [BIN, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  p.stdout.on('data', (d: Buffer) => (output += d.toString()));
  p.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, output };
}
