import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// bin/sluice.js runs the compiled build (dist/), so every test that spawns it must see the current
// sources compiled: build once per test process when anything changed (scripts/build.js holds a
// lock, so test files started together build once, and a fresh dist/ costs a few stat calls).

const ROOT = new URL('../../../', import.meta.url).pathname;

/** The CLI as operators and the image run it: `node bin/sluice.js <role>`. */
export const SLUICE_BIN = join(ROOT, 'bin/sluice.js');

try {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
} catch (e) {
  const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
  throw new Error(`npm run build failed:\n${String(err.stdout ?? '')}${String(err.stderr ?? err.message)}`, {
    cause: e,
  });
}
