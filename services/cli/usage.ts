import { roles, type RoleName } from './roles.ts';

/** The --help text: roles, options, and every environment variable with its key and roles. */
export function usage(): string {
  const names = Object.keys(roles) as RoleName[];
  const roleLines = names.map((r) => `  ${r.padEnd(12)} ${roles[r].summary}`);
  const envRoles = new Map<string, { key: string; roles: RoleName[] }>();
  for (const r of names) {
    for (const o of roles[r].env) {
      const e = envRoles.get(o.env) ?? { key: o.path.join('.'), roles: [] };
      e.roles.push(r);
      envRoles.set(o.env, e);
    }
  }
  const width = Math.max(...[...envRoles.keys()].map((k) => k.length)) + 2;
  const keyWidth = Math.max(...[...envRoles.values()].map((e) => e.key.length)) + 2;
  const envLines = [...envRoles].map(([env, e]) => {
    const where = e.roles.length === names.length ? 'all roles' : e.roles.join(', ');
    return `  ${env.padEnd(width)}${e.key.padEnd(keyWidth)}${where}`;
  });
  envLines.push(`  ${'SLUICE_SIGN_SECRET'.padEnd(width)}${'(no config key)'.padEnd(keyWidth)}sluice sign`);
  return `usage: sluice <role> [--config FILE] [--check-config]
       sluice sign --action publish|play --key APP/NAME [--ttl S] [--url BASE]   (signed URL; secret in SLUICE_SIGN_SECRET)
       sluice --version | --help

Roles:
${roleLines.join('\n')}

Options:
  -c, --config FILE   JSON config (schema: conf/<role>.schema.json); without it the role runs on
                      its defaults (what conf/<role>.json holds)
  --check-config      validate the config (file and environment) for the role, print "OK" or
                      every problem naming its key, exit 0 or 1; starts nothing
  -v, --version       print the version
  -h, --help          print this help

Environment (overrides the config file; empty counts as unset):
${envLines.join('\n')}

Listen addresses: :port is every interface, IPv4 and IPv6 (dual stack); 0.0.0.0:port IPv4 only;
[::]:port IPv6 and IPv4-mapped; 127.0.0.1:port or [::1]:port loopback only. Ports 1-65535.
Logs: JSON lines on stdout; on a terminal, readable when pino-pretty is installed (log.format).`;
}
