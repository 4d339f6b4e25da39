import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../libs/config/load.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';
import { checkHlsConfig } from '../../../services/node/media-node.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// hls.maxSegmentMs below hls.targetMs passes the schema but would make every stream's HLS
// output throw on its first frame: a startup error instead.
test('hls.maxSegmentMs below hls.targetMs is a config error naming both keys; 0 and larger are fine', () => {
  const file = (hls: object): string => {
    const f = join(mkdtempSync(join(tmpdir(), 'sluice-hlscfg-')), 'c.json');
    writeFileSync(f, JSON.stringify({ hls }));
    return f;
  };
  const load = (hls: object) => loadStandaloneConfig(file(hls), {}).hls;
  assert.throws(
    () => checkHlsConfig(load({ targetMs: 3000, maxSegmentMs: 1000 })),
    (e: unknown) => e instanceof ConfigError && /hls\.maxSegmentMs.*hls\.targetMs/.test(e.message),
  );
  assert.doesNotThrow(() => checkHlsConfig(load({ targetMs: 3000, maxSegmentMs: 0 })));
  assert.doesNotThrow(() => checkHlsConfig(load({ targetMs: 3000, maxSegmentMs: 3000 })));
});
