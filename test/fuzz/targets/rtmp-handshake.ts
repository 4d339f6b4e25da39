import { HandshakeClient } from '../../../libs/rtmp/handshake-client.ts';
import { HandshakeServer } from '../../../libs/rtmp/handshake-server.ts';
import type { HandshakeStep } from '../../../libs/rtmp/handshake-server.ts';
import { interestingFor, readField, writeField } from '../engine/mutate.ts';
import { invariant, pieces, splitPoints } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';

const PACKET = 1536;
const ALL = 1 + 2 * PACKET;

interface Result {
  sent: Buffer;
  done: boolean;
  rest: Buffer;
}

function drive(push: (b: Buffer) => HandshakeStep, parts: readonly Buffer[]): Result {
  const sent: Buffer[] = [];
  const rest: Buffer[] = [];
  let done = false;
  for (const p of parts) {
    const step = push(p);
    sent.push(...step.send);
    rest.push(step.rest);
    done = step.done;
  }
  return { sent: Buffer.concat(sent), done, rest: Buffer.concat(rest) };
}

/**
 * Whole input and split input give the same answer; once done, every byte past the three
 * packets comes back as `rest`; before, nothing does.
 */
function check(input: Buffer, make: () => (b: Buffer) => HandshakeStep, expectSent: number): void {
  const whole = drive(make(), [input]);
  const split = drive(make(), pieces(input, splitPoints(input, 5)));
  invariant(whole.done === split.done && whole.rest.equals(split.rest), 'split changed the outcome');
  invariant(whole.done === input.length >= ALL, `done ${whole.done} with ${input.length} bytes`);
  invariant(whole.rest.length === Math.max(0, input.length - ALL), `rest of ${whole.rest.length} bytes`);
  const want = input.length >= 1 + PACKET ? expectSent : 0;
  // S1 and digests are random, so only the sizes can be compared.
  invariant(
    whole.sent.length === want && split.sent.length === want,
    `sent ${whole.sent.length} bytes, expected ${want}`,
  );
}

/** C1/S1 digest offsets live in bytes 8-11 (schema 0) and 772-775 (schema 1) of the packet. */
const digestOffsets: Mutator = (buf, rng) => {
  const b = Buffer.from(buf);
  const at = 1 + rng.pick([8, 772, 4, 0, PACKET - 4]) + rng.below(4);
  if (rng.oneIn(3)) b[0] = rng.pick([3, 6, 0, 0xff, 8]);
  else writeField(b, at, 1, interestingFor(rng, 1, readField(b, at, 1)));
  return b;
};

export const targets: FuzzTarget[] = [
  {
    name: 'handshake-server',
    description: 'HandshakeServer (simple and digest): C0+C1+C2 of ffmpeg, librtmp and rtmp2sink',
    mutators: [digestOffsets],
    run(input) {
      check(
        input,
        () => {
          const s = new HandshakeServer({ complex: true });
          return (b) => s.push(b);
        },
        ALL,
      );
      check(
        input,
        () => {
          const s = new HandshakeServer({ complex: false });
          return (b) => s.push(b);
        },
        ALL,
      );
    },
  },
  {
    name: 'handshake-client',
    description: 'HandshakeClient (simple and digest): S0+S1+S2 Sluice sent to those clients',
    mutators: [digestOffsets],
    run(input) {
      for (const complex of [false, true]) {
        check(
          input,
          () => {
            const c = new HandshakeClient({ complex });
            c.start();
            return (b) => c.push(b);
          },
          PACKET,
        );
      }
    },
  },
];
