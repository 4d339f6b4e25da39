import { parseMediaPath } from '../../../libs/http/media-path.ts';
import { isStreamKey, splitQuery } from '../../../libs/names/stream-key.ts';
import { parseStreamName } from '../../../libs/rtmp/stream-name.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget, Mutator } from '../engine/target.ts';

const SAFE_KEY = /^[A-Za-z0-9_.~-]+(\/[A-Za-z0-9_.~-]+)+$/;
const TOKENS = [
  '/',
  '..',
  '.',
  '%2F',
  '%2e',
  '%',
  '%00',
  '?',
  '&',
  '=',
  '#',
  '\\',
  '~',
  '.flv',
  '.m3u8',
  '__proto__',
  '%ZZ',
  '\u00e9',
  '\ud800',
];

/** Repeats a piece (a segment, a separator) many times: long apps, deep paths, long names. */
const repeatMutator: Mutator = (b, rng) => {
  const at = rng.below(b.length + 1);
  const piece = rng.oneIn(2)
    ? b.subarray(at, at + rng.range(1, 8))
    : Buffer.from(rng.pick(['a/', 'a', '/', '%2F', '../']));
  const n = rng.pick([2, 16, 64, 130, 200, 300]);
  return Buffer.concat([b.subarray(0, at), ...Array<Buffer>(n).fill(piece), b.subarray(at)]);
};

function checkKey(key: string): void {
  invariant(SAFE_KEY.test(key), () => `unsafe key ${JSON.stringify(key)}`);
  invariant(
    !key.split('/').some((s) => s === '.' || s === '..'),
    () => `dot segment in ${JSON.stringify(key)}`,
  );
  invariant(isStreamKey(key), () => `key of ${key.length} characters that isStreamKey rejects`);
}

export const targets: FuzzTarget[] = [
  {
    name: 'media-path',
    description:
      'parseMediaPath + splitQuery: HTTP request targets ffmpeg sent; null or a safe key, never a throw',
    dictionary: TOKENS.map((t) => Buffer.from(t, 'latin1')),
    mutators: [repeatMutator],
    maxInputBytes: 4096,
    // It returns null for anything malformed: no error is documented, so none is allowed.
    allowed: () => false,
    run(input) {
      const url = input.toString('latin1');
      splitQuery(url);
      const p = parseMediaPath(url);
      if (p === null) return;
      checkKey(p.key);
      invariant(p.key === `${p.app}/${p.name}` && p.ext === p.ext.toLowerCase(), 'key parts');
    },
  },
  {
    name: 'stream-name',
    description: 'parseStreamName: connect app and publish/play names from captures (input: app NUL name)',
    dictionary: TOKENS.map((t) => Buffer.from(t, 'utf8')),
    mutators: [repeatMutator],
    maxInputBytes: 4096,
    run(input) {
      const s = input.toString('utf8');
      const nul = s.indexOf('\0');
      const app = nul < 0 ? s : s.slice(0, nul);
      const name = nul < 0 ? '' : s.slice(nul + 1);
      const n = parseStreamName(app, name);
      checkKey(n.key);
      invariant(!Object.keys(n.query).includes('__proto__'), 'query has __proto__');
    },
  },
];
