import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HandshakeServer } from '../../../libs/rtmp/handshake-server.ts';
import type { HandshakeStep } from '../../../libs/rtmp/handshake-server.ts';
import { HandshakeClient } from '../../../libs/rtmp/handshake-client.ts';
import { DigestSchema } from '../../../libs/rtmp/handshake-digest.ts';
import { ProtocolError } from '../../../libs/errors/protocol-error.ts';

// Independent of the implementation: the formulas from the brief, spelled out here.
const PLAYER_KEY = Buffer.from('Genuine Adobe Flash Player 001');
const SERVER_KEY = Buffer.from('Genuine Adobe Flash Media Server 001');
const TAIL = Buffer.from('F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE', 'hex');
const SERVER_FULL = Buffer.concat([SERVER_KEY, TAIL]);
const PLAYER_FULL = Buffer.concat([PLAYER_KEY, TAIL]);
const sha = (key: Buffer, ...d: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  d.forEach((x) => h.update(x));
  return h.digest();
};
const offsetOf = (p: Buffer, schema: 'digest-first' | 'key-first'): number => {
  const at = schema === 'digest-first' ? 8 : 772;
  return ((p[at]! + p[at + 1]! + p[at + 2]! + p[at + 3]!) % 728) + (schema === 'digest-first' ? 12 : 776);
};
const handC1 = (schema: 'digest-first' | 'key-first'): { c1: Buffer; digest: Buffer } => {
  const c1 = randomBytes(1536);
  c1.writeUInt32BE(0, 0);
  c1.writeUInt32BE(0x80000702, 4);
  const off = offsetOf(c1, schema);
  const digest = sha(PLAYER_KEY.subarray(0, 30), c1.subarray(0, off), c1.subarray(off + 32));
  digest.copy(c1, off);
  return { c1, digest };
};
const digestValid = (p: Buffer, schema: 'digest-first' | 'key-first', key: Buffer): Buffer | undefined => {
  const off = offsetOf(p, schema);
  const d = p.subarray(off, off + 32);
  return sha(key, p.subarray(0, off), p.subarray(off + 32)).equals(d) ? d : undefined;
};

const C0 = Buffer.of(3);
const concat = (steps: HandshakeStep[]): Buffer => Buffer.concat(steps.flatMap((s) => s.send));

/** Feeds `bytes` in pieces cut at `cuts`, returning every step. */
const feed = (push: (b: Buffer) => HandshakeStep, bytes: Buffer, cuts: number[]): HandshakeStep[] => {
  const steps: HandshakeStep[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    steps.push(push(bytes.subarray(at, c)));
    at = c;
  }
  return steps;
};

/** Runs client against server with the given cuts on each direction; returns both ends. */
const pair = (
  client: HandshakeClient,
  server: HandshakeServer,
  c0c1Cut: number,
  s012Cut: number,
  c2Cut: number,
): { c2: Buffer; s012: Buffer; clientDone: HandshakeStep; serverDone: HandshakeStep } => {
  const s012 = concat(feed((b) => server.push(b), client.start(), [c0c1Cut]));
  assert.equal(s012.length, 3073);
  const cSteps = feed((b) => client.push(b), s012, [s012Cut]);
  const c2 = concat(cSteps);
  assert.equal(c2.length, 1536);
  const sSteps = feed((b) => server.push(b), c2, [c2Cut]);
  return { c2, s012, clientDone: cSteps.at(-1)!, serverDone: sSteps.at(-1)! };
};

const modes = [
  { name: 'simple client, complex server', client: false, server: true, complex: false },
  { name: 'simple client, simple server', client: false, server: false, complex: false },
  { name: 'complex client, simple server', client: true, server: false, complex: false },
  { name: 'complex client, complex server', client: true, server: true, complex: true },
] as const;

for (const m of modes) {
  for (const schema of [DigestSchema.DigestFirst, DigestSchema.KeyFirst]) {
    test(`handshake: ${m.name} (${schema}) completes when split at every C0+C1 offset`, () => {
      for (let cut = 0; cut <= 1537; cut++) {
        const client = new HandshakeClient({ complex: m.client, schema });
        const server = new HandshakeServer({ complex: m.server });
        const r = pair(client, server, cut, (cut * 2) % 3074, cut % 1537);
        assert.equal(r.serverDone.done, true);
        assert.equal(r.clientDone.done, true);
        assert.equal(r.serverDone.rest.length, 0);
        assert.equal(r.clientDone.rest.length, 0);
        assert.equal(server.usedComplex, m.complex);
        assert.equal(client.usedComplex, m.complex);
        assert.equal(client.s2Verified, true);
      }
    });
  }
}

test('handshake: server finishes for C2 split at every offset, with the connect bytes as rest', () => {
  const extra = Buffer.from('chunk stream bytes');
  for (let cut = 0; cut <= 1536 + extra.length; cut++) {
    const server = new HandshakeServer();
    const client = new HandshakeClient({ complex: true });
    const s012 = concat([server.push(client.start())]);
    const c2 = concat([client.push(s012)]);
    const steps = feed((b) => server.push(b), Buffer.concat([c2, extra]), [cut]);
    const doneAt = steps.findIndex((s) => s.done);
    assert.equal(doneAt, cut >= 1536 ? 0 : 1, `cut ${cut}`);
    assert.ok(steps.every((s) => s.send.length === 0));
    assert.deepEqual(Buffer.concat(steps.slice(doneAt).map((s) => s.rest)), extra);
  }
});

test('handshake: client finishes for S0+S1+S2 split at every offset', () => {
  const server = new HandshakeServer();
  const probe = new HandshakeClient({ complex: true });
  const s012 = concat([server.push(probe.start())]);
  // The client only checks S2 against its own C1, so reuse the server bytes with fresh
  // clients and just check progress; s2Verified is covered by the pair tests.
  const extra = Buffer.from([2, 0, 0, 0, 0, 0, 4, 1]);
  for (let cut = 0; cut <= 3073; cut++) {
    const client = new HandshakeClient();
    client.start();
    const steps = feed((b) => client.push(b), Buffer.concat([s012, extra]), [cut]);
    assert.equal(concat(steps).length, 1536);
    assert.ok(steps.at(-1)!.done);
    assert.deepEqual(Buffer.concat(steps.map((s) => s.rest)), extra);
    assert.deepEqual(concat(steps), s012.subarray(1, 1537), 'simple client echoes S1');
  }
});

test('handshake: byte-at-a-time delivery works both ways', () => {
  const server = new HandshakeServer();
  const client = new HandshakeClient({ complex: true });
  const one = (push: (b: Buffer) => HandshakeStep, bytes: Buffer): HandshakeStep[] =>
    feed(
      push,
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
  const s = one((b) => server.push(b), client.start());
  const c = one((b) => client.push(b), concat(s));
  const last = one((b) => server.push(b), concat(c)).at(-1)!;
  assert.ok(last.done && server.usedComplex && client.usedComplex && client.s2Verified);
});

test('handshake: C0+C1+C2+chunk bytes in one push answer and finish at once', () => {
  const server = new HandshakeServer();
  const c2 = randomBytes(1536);
  const extra = randomBytes(5000);
  const step = server.push(Buffer.concat([C0, randomBytes(1536), c2, extra]));
  assert.equal(step.send.length, 1);
  assert.equal(step.send[0]!.length, 3073);
  assert.equal(step.done, true);
  assert.deepEqual(step.rest, extra);
  const later = server.push(Buffer.from('more'));
  assert.deepEqual(later, { send: [], done: true, rest: Buffer.from('more') });
});

test('handshake: bad version bytes are rejected on the first byte', () => {
  for (const v of [0, 6, 0x47, 255]) {
    assert.throws(
      () => new HandshakeServer().push(Buffer.of(v)),
      (e: unknown) => e instanceof ProtocolError && e.code === 'RTMP_BAD_VERSION',
      `C0 ${v}`,
    );
    const client = new HandshakeClient();
    client.start();
    assert.throws(
      () => client.push(Buffer.concat([Buffer.of(v), randomBytes(3072)])),
      (e: unknown) => e instanceof ProtocolError && e.code === 'RTMP_BAD_VERSION',
      `S0 ${v}`,
    );
  }
  // An empty push before C0 is no error.
  assert.equal(new HandshakeServer().push(Buffer.alloc(0)).done, false);
});

for (const schema of ['digest-first', 'key-first'] as const) {
  test(`handshake: a hand-built ${schema} C1 gets a digest S1 and a verifiable S2`, () => {
    const { c1, digest } = handC1(schema);
    const server = new HandshakeServer();
    const out = concat([server.push(Buffer.concat([C0, c1]))]);
    assert.equal(server.usedComplex, true);
    assert.equal(out[0], 3);
    const s1 = out.subarray(1, 1537);
    const s2 = out.subarray(1537);
    assert.notEqual(s1.readUInt32BE(4), 0, 'S1 version announces a digest');
    const s1Digest = digestValid(s1, schema, SERVER_KEY.subarray(0, 36));
    assert.ok(s1Digest, 'S1 digest in the same schema');
    const expected = sha(sha(SERVER_FULL, digest), s2.subarray(0, 1504));
    assert.deepEqual(s2.subarray(1504), expected);
    // And a complex client's C2 follows the same rule with the 62-byte player key.
    const client = new HandshakeClient({ complex: true, schema });
    client.start();
    const c2 = concat([client.push(out)]);
    assert.deepEqual(c2.subarray(1504), sha(sha(PLAYER_FULL, s1Digest), c2.subarray(0, 1504)));
  });
}

test('handshake: a random or simple C1 falls back to the simple handshake (S2 echoes C1)', () => {
  for (const c1 of [randomBytes(1536), Buffer.concat([Buffer.alloc(8), randomBytes(1528)])]) {
    const server = new HandshakeServer();
    const out = concat([server.push(Buffer.concat([C0, c1]))]);
    assert.equal(server.usedComplex, false);
    assert.equal(out.readUInt32BE(5), 0, 'simple S1 has a zero version');
    assert.deepEqual(out.subarray(1537), c1);
  }
  // complex: false answers even a digest C1 simply.
  const { c1 } = handC1('key-first');
  const server = new HandshakeServer({ complex: false });
  const out = concat([server.push(Buffer.concat([C0, c1]))]);
  assert.equal(server.usedComplex, false);
  assert.deepEqual(out.subarray(1537), c1);
});

test('handshake: client notes an S2 that matches neither form without failing', () => {
  const client = new HandshakeClient({ complex: true });
  client.start();
  const s1 = Buffer.concat([C0, randomBytes(1536)]);
  client.push(s1);
  const end = client.push(randomBytes(1536));
  assert.equal(end.done, true);
  assert.equal(client.usedComplex, false);
  assert.equal(client.s2Verified, false);
});

// Live: a real ffmpeg against a net server driving HandshakeServer.
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

const liveCheck = async (
  args: (url: string) => string[],
): Promise<{ server: HandshakeServer; after: number }> => {
  const hs = new HandshakeServer();
  let after = 0;
  let resolveSeen: () => void = () => {};
  const seen = new Promise<void>((r) => (resolveSeen = r));
  const srv = createServer((sock) => {
    let done = false;
    sock.on('error', () => {});
    sock.on('data', (data: Buffer) => {
      if (done) {
        after += data.length;
      } else {
        const step = hs.push(data);
        step.send.forEach((b) => sock.write(b));
        done = step.done;
        after += step.rest.length;
      }
      if (after > 0) resolveSeen();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  const ff = spawn('ffmpeg', args(`rtmp://127.0.0.1:${port}/live/x`), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => ff.on('exit', () => r()));
  try {
    await Promise.race([seen, exited.then(() => assert.fail(`ffmpeg exited first: ${stderr}`))]);
  } finally {
    ff.kill('SIGKILL');
    await exited;
    await new Promise<void>((r) => srv.close(() => r()));
    srv.unref();
  }
  return { server: hs, after };
};

test(
  'handshake: live ffmpeg publisher gets through and sends its connect',
  { skip: !hasFfmpeg, timeout: 10_000 },
  async () => {
    const r = await liveCheck((url) => [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-t', '1'],
      ...['-f', 'flv', url],
    ]);
    assert.ok(r.after > 0);
    assert.equal(r.server.usedComplex, true, 'ffmpeg sends a digest C1');
  },
);

// As a player ffmpeg validates the S1 digest and S2 signature, so this checks our complex answer.
test(
  'handshake: live ffmpeg player accepts our digest S1/S2',
  { skip: !hasFfmpeg, timeout: 10_000 },
  async () => {
    const r = await liveCheck((url) => ['-hide_banner', '-loglevel', 'error', '-i', url, '-f', 'null', '-']);
    assert.ok(r.after > 0);
    assert.equal(r.server.usedComplex, true);
  },
);
