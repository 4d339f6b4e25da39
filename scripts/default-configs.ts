import { writeFileSync } from 'node:fs';
import { edgeSchema } from '../services/edge/config.ts';
import { originSchema } from '../services/origin/config.ts';
import { schedulerSchema } from '../services/scheduler/config.ts';
import { standaloneSchema } from '../services/standalone/config.ts';

// conf/<role>.json (every default) and conf/<role>.schema.json (the role's JSON Schema, for
// editors: a config file that starts with "$schema": "./edge.schema.json" is validated and
// completed as it is typed). Both are generated; a unit test fails when either is stale.
//   node --import tsx scripts/default-configs.ts

/** Each role's schema, whose defaults conf/<role>.json mirrors. */
export const roleSchemas: Record<string, object> = {
  standalone: standaloneSchema,
  origin: originSchema,
  edge: edgeSchema,
  scheduler: schedulerSchema,
};

interface SchemaNode {
  type?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

/** The config a role runs on without --config: every default, nested as the schema nests it. */
export function defaultsOf(schema: SchemaNode): unknown {
  if (schema.type === 'object' && schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema.properties)) {
      const d = defaultsOf(v);
      if (d !== undefined) out[k] = d;
    }
    return out;
  }
  return schema.default;
}

export function defaultConfigText(role: string): string {
  const config = {
    $schema: `./${role}.schema.json`,
    ...(defaultsOf(roleSchemas[role] as SchemaNode) as object),
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export function schemaText(role: string): string {
  return JSON.stringify(roleSchemas[role], null, 2) + '\n';
}

if (process.argv[1]?.endsWith('default-configs.ts')) {
  for (const role of Object.keys(roleSchemas)) {
    writeFileSync(`conf/${role}.json`, defaultConfigText(role));
    writeFileSync(`conf/${role}.schema.json`, schemaText(role));
  }
  process.stdout.write(`wrote conf/{${Object.keys(roleSchemas).join(',')}}{.json,.schema.json}\n`);
}
