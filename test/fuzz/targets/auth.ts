import { parseCallbackAnswer } from '../../../libs/auth/callback-answer.ts';
import { parseCidr, parseIp } from '../../../libs/auth/cidr.ts';
import { checkLalSecret } from '../../../libs/auth/lal-md5.ts';
import { parseQuery, queryOfUrl, redactQuery } from '../../../libs/auth/query.ts';
import { verifySignature } from '../../../libs/auth/signed-url.ts';
import { invariant } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';

const TOKENS = [
  '?',
  '&',
  '=',
  '#',
  '%',
  '%3D',
  '%26',
  'sign=',
  'expires=',
  'lal_secret=',
  '__proto__',
  '0'.repeat(64),
  '9999999999',
  '/',
  '::',
  '.',
  '%00',
];
const VERDICTS = new Set(['ok', 'missing', 'malformed', 'expired', 'too_long', 'bad_signature']);

export const targets: FuzzTarget[] = [
  {
    name: 'auth-query',
    description:
      'query parsing, redaction and signed-URL / lal_secret verification of request targets; never a throw, redaction hides every value',
    corpus: ['media-path'],
    dictionary: TOKENS.map((t) => Buffer.from(t, 'latin1')),
    maxInputBytes: 4096,
    allowed: () => false,
    run(input) {
      const url = input.toString('latin1');
      const q = parseQuery(url.slice(url.indexOf('?') + 1));
      invariant(!Object.keys(q).includes('__proto__'), 'query has __proto__');
      queryOfUrl(url);
      const red = redactQuery(url);
      const at = red.indexOf('?');
      if (at >= 0) {
        const rest = red.slice(at + 1);
        const hash = rest.indexOf('#');
        for (const part of (hash < 0 ? rest : rest.slice(0, hash)).split('&')) {
          invariant(
            !part.includes('=') || part.endsWith('=***'),
            () => `value left in ${JSON.stringify(part)}`,
          );
        }
      }
      const v = verifySignature({
        secrets: ['fuzz-secret-0123456789'],
        action: 'play',
        key: 'live/x',
        query: q,
        nowS: 1_700_000_000,
        maxTtlS: 0,
      });
      invariant(VERDICTS.has(v), `verdict ${v}`);
      invariant(v !== 'ok', 'a signature forged without the secret');
      checkLalSecret(q, 'x', { key: 'k', dangerousLalSecret: '' });
      parseCallbackAnswer(200, url);
    },
  },
  {
    name: 'auth-cidr',
    description: 'parseIp / parseCidr on address text; null or 16 bytes and a prefix within 0..128',
    corpus: ['media-path'],
    dictionary: ['::', ':', '.', '/', '%', 'ffff', '255', '0', '/128', '/32', '1.2.3.4'].map((t) =>
      Buffer.from(t, 'latin1'),
    ),
    maxInputBytes: 256,
    allowed: () => false,
    run(input) {
      const s = input.toString('latin1');
      const ip = parseIp(s);
      invariant(ip === null || ip.length === 16, 'address length');
      const c = parseCidr(s);
      invariant(c === null || (c.bits >= 0 && c.bits <= 128 && c.bytes.length === 16), 'cidr shape');
    },
  },
];
