import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HandshakeServer } from '../../libs/rtmp/handshake-server.ts';
import { HandshakeClient } from '../../libs/rtmp/handshake-client.ts';
import type { HandshakeStep } from '../../libs/rtmp/handshake-server.ts';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';

/** Random bytes, half the time behind a valid version byte so the packet code is reached. */
const stream = fc
  .tuple(
    fc.boolean(),
    fc.uint8Array({ maxLength: 4000, size: 'max' }),
    fc.array(fc.nat(4000), { maxLength: 6, size: 'max' }),
  )
  .map(([valid, body, cuts]) => {
    const bytes = Buffer.concat([valid ? Buffer.of(3) : Buffer.alloc(0), Buffer.from(body)]);
    return { bytes, cuts: [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b) };
  });

const drive = (push: (b: Buffer) => HandshakeStep, bytes: Buffer, cuts: number[]): void => {
  let at = 0;
  let out = 0;
  for (const c of [...cuts, bytes.length]) {
    const step = push(bytes.subarray(at, c));
    out += step.rest.length;
    at = c;
  }
  // Nothing past the three handshake packets is held back.
  assert.ok(bytes.length - out <= 1537 + 1536);
};

const onlyProtocolErrors = (run: () => void): void => {
  try {
    run();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
};

test('fuzz: HandshakeServer raises only ProtocolError on random bytes', () => {
  fc.assert(
    fc.property(stream, fc.boolean(), ({ bytes, cuts }, complex) =>
      onlyProtocolErrors(() => {
        const server = new HandshakeServer({ complex });
        drive((b) => server.push(b), bytes, cuts);
      }),
    ),
    { numRuns: 2000 },
  );
});

test('fuzz: HandshakeClient raises only ProtocolError on random bytes', () => {
  fc.assert(
    fc.property(stream, fc.boolean(), ({ bytes, cuts }, complex) =>
      onlyProtocolErrors(() => {
        const client = new HandshakeClient({ complex });
        client.start();
        drive((b) => client.push(b), bytes, cuts);
      }),
    ),
    { numRuns: 2000 },
  );
});
