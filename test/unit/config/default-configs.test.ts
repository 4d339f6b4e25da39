import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultConfigText, roleSchemas, schemaText } from '../../../scripts/default-configs.ts';
import { loadEdgeConfig } from '../../../services/edge/config.ts';
import { loadOriginConfig } from '../../../services/origin/config.ts';
import { loadSchedulerConfig } from '../../../services/scheduler/config.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';

const loaders: Record<string, (file: string | undefined) => unknown> = {
  standalone: (f) => loadStandaloneConfig(f, {}),
  origin: (f) => loadOriginConfig(f, {}),
  edge: (f) => loadEdgeConfig(f, {}),
  scheduler: (f) => loadSchedulerConfig(f, {}),
};

for (const role of Object.keys(roleSchemas)) {
  test(`conf/${role}.json holds exactly the schema defaults`, () => {
    const file = `conf/${role}.json`;
    assert.equal(
      readFileSync(file, 'utf8'),
      defaultConfigText(role),
      'stale: regenerate with `node --import tsx scripts/default-configs.ts`',
    );
    // Running with the file is the same as running with no --config at all.
    assert.deepEqual(loaders[role]!(file), loaders[role]!(undefined));
  });
}

for (const role of Object.keys(roleSchemas)) {
  test(`conf/${role}.schema.json is the schema ${role} validates with`, () => {
    assert.equal(
      readFileSync(`conf/${role}.schema.json`, 'utf8'),
      schemaText(role),
      'stale: regenerate with `node --import tsx scripts/default-configs.ts`',
    );
    const published = JSON.parse(readFileSync(`conf/${role}.schema.json`, 'utf8')) as {
      $id: string;
      properties: Record<string, unknown>;
    };
    assert.equal(published.$id, `${role}.schema.json`, 'editors resolve the schema by its file name');
    assert.ok(published.properties.$schema, 'a config file may name its schema');
  });
}
