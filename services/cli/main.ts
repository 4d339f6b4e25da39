import { parseArgs } from 'node:util';
import { ConfigError } from '../../libs/config/load.ts';
import { ListenError } from '../../libs/http/listen.ts';
import { sluiceVersion } from '../node/version.ts';
import { isRole, roles } from './roles.ts';
import { usage } from './usage.ts';
import { signCommand } from './sign.ts';

/** Exit status, or -1 when a role is running (it exits on a signal). */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'sign') {
    return signCommand(
      argv.slice(1),
      process.env,
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'check-config': { type: 'boolean' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage()}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`sluice ${sluiceVersion()}\n`);
    return 0;
  }
  const role = positionals[0];
  if (!role) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  if (!isRole(role) || positionals.length > 1) {
    const what = isRole(role) ? `unexpected argument "${positionals[1]}"` : `unknown role "${role}"`;
    process.stderr.write(`sluice: ${what}\n${usage()}\n`);
    return 2;
  }
  const spec = roles[role];
  try {
    // The same checks with and without --check-config, so what it accepts starts.
    spec.check(values.config, process.env);
    if (values['check-config']) {
      process.stdout.write(`sluice: ${role} config OK (${values.config ?? 'defaults'})\n`);
      return 0;
    }
    await spec.run(values.config);
    return -1;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sluice: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ListenError) {
      process.stderr.write(`sluice: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
