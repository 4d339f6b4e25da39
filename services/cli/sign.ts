import { parseArgs } from 'node:util';
import { isStreamKey } from '../../libs/names/stream-key.ts';
import { signedQuery } from '../../libs/auth/signed-url.ts';

export const SIGN_USAGE = `usage: sluice sign --action publish|play --key APP/NAME [--ttl SECONDS] [--url BASE]
  Prints the query (expires=…&sign=…) of a signed URL (auth.signed), or the whole URL with --url
  (e.g. --url rtmp://host/ gives rtmp://host/APP/NAME?expires=…&sign=…). The secret comes from the
  environment variable SLUICE_SIGN_SECRET (never from the command line, which others can see).
  --ttl defaults to 3600.`;

/** `sluice sign …`: exit status; output and errors written to the given streams. */
export function signCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
  err: (s: string) => void,
  nowS = Math.floor(Date.now() / 1000),
): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        action: { type: 'string' },
        key: { type: 'string' },
        ttl: { type: 'string', default: '3600' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n${SIGN_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out(`${SIGN_USAGE}\n`);
    return 0;
  }
  const { action, key } = values;
  const ttl = Number(values.ttl);
  const secret = env.SLUICE_SIGN_SECRET ?? '';
  const problems: string[] = [];
  if (action !== 'publish' && action !== 'play') problems.push('--action must be publish or play');
  if (!key || !isStreamKey(key)) problems.push('--key must be a stream key, APP/NAME');
  if (!Number.isInteger(ttl) || ttl <= 0) problems.push('--ttl must be a positive number of seconds');
  if (secret.length < 16) problems.push('SLUICE_SIGN_SECRET must hold the secret (16+ characters)');
  if (problems.length) {
    err(`sluice sign: ${problems.join('; ')}\n${SIGN_USAGE}\n`);
    return 2;
  }
  const query = signedQuery(secret, action as 'publish' | 'play', key!, nowS + ttl);
  out(values.url ? `${values.url.replace(/\/+$/, '')}/${key}?${query}\n` : `${query}\n`);
  return 0;
}
