import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../libs/errors/protocol-error.ts';
import { parseMediaPath } from '../../libs/http/media-path.ts';
import { parseCommand } from '../../libs/rtmp/commands.ts';
import { parseStreamName } from '../../libs/rtmp/stream-name.ts';

// Full Unicode, and strings over a path-like alphabet so that near-valid names are common.
const nameish = fc.oneof(
  fc.string({ maxLength: 300, unit: 'binary' }),
  fc.string({
    maxLength: 40,
    unit: fc.constantFrom('a', 'Z', '0', '.', '/', '%', '2', 'F', '?', '=', '&', '_', '-', '~'),
  }),
);

const onlyProtocolErrors = (fn: () => unknown): void => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
};

test('fuzz: stream names never escape the safe alphabet', () => {
  fc.assert(
    fc.property(nameish, nameish, (app, name) => {
      onlyProtocolErrors(() => {
        const n = parseStreamName(app, name);
        assert.match(n.key, /^[A-Za-z0-9_.~-]+(\/[A-Za-z0-9_.~-]+)+$/);
        assert.ok(!n.key.split('/').includes('..'));
      });
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: media paths are null or safe keys, never throw', () => {
  fc.assert(
    fc.property(nameish, (s) => {
      const p = parseMediaPath('/' + s);
      if (p) assert.ok(!p.key.split('/').some((x) => x === '..' || x === '.' || x === ''));
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: command parsing raises only ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(17, 20), (bytes, typeId) => {
      onlyProtocolErrors(() =>
        parseCommand({ csid: 3, typeId, streamId: 0, timestamp: 0, payload: Buffer.from(bytes) }),
      );
    }),
    { numRuns: 2000 },
  );
});
