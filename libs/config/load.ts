import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseListen } from './listen.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** An environment variable that overrides one config key, given as a JSON pointer-like path. */
export interface EnvOverride {
  env: string;
  path: readonly string[];
  kind: 'listen' | 'string';
}

/**
 * Reads a JSON config (or `{}` when no file is given), applies environment overrides,
 * then validates against the role's JSON Schema with ajv (allErrors, defaults filled in).
 * Every problem names its key; all of them are reported at once.
 */
export function loadConfig<T>(opts: {
  schema: object;
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  overrides?: readonly EnvOverride[];
}): T {
  let raw: unknown = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError([`cannot read config file ${opts.file}: ${(e as Error).message}`]);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError([`config file ${opts.file} is not valid JSON: ${(e as Error).message}`]);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([`${opts.file ?? 'config'}: must be a JSON object`]);
  }
  const problems: string[] = [];
  const env = opts.env ?? process.env;
  for (const o of opts.overrides ?? []) {
    const value = env[o.env];
    if (value === undefined || value === '') continue;
    if (o.kind === 'listen') {
      try {
        parseListen(value);
      } catch (e) {
        problems.push(`${o.env} (${o.path.join('.')}): ${(e as Error).message}`);
        continue;
      }
    }
    setPath(raw as Record<string, unknown>, o.path, value);
  }
  const validate = validatorFor(opts.schema);
  if (!validate(raw)) problems.push(...(validate.errors ?? []).map(describe));
  if (problems.length) throw new ConfigError(problems);
  return raw as T;
}

/**
 * Compiled validators by schema object. Compiling takes milliseconds; a process loads its
 * config once, but tests and the config fuzzer load thousands, and schemas are constants.
 */
const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let v = validators.get(schema);
  if (v === undefined) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
    addFormats.default(ajv);
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function describe(e: ErrorObject): string {
  const key = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `${key === '(root)' ? '' : key + '.'}${extra}: unknown key`;
  }
  return `${key}: ${e.message ?? 'invalid'}`;
}
