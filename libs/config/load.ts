import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { LISTEN_HINT, LISTEN_PATTERN, parseListen } from './listen.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * The `"$schema"` key a config file may carry so editors validate and complete it
 * (`"$schema": "./edge.schema.json"`); every role's schema allows it, Sluice ignores it.
 */
export const schemaKeyProperty = {
  type: 'string',
  description: 'The JSON Schema this file follows, for editors (conf/<role>.schema.json). Ignored by Sluice.',
} as const;

/** An environment variable that overrides one config key, given as a JSON pointer-like path. */
export interface EnvOverride {
  env: string;
  path: readonly string[];
  /** `integer`: decimal digits, set as a number (the schema then checks its range). */
  kind: 'listen' | 'string' | 'integer';
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
  /** Keys set from the environment, so a bad value names its variable. */
  const fromEnv = new Map<string, string>();
  for (const o of opts.overrides ?? []) {
    const value = env[o.env];
    if (value === undefined || value === '') continue;
    if (o.kind === 'listen') {
      try {
        parseListen(value);
      } catch (e) {
        problems.push(`${o.path.join('.')}: ${(e as Error).message} (from ${o.env})`);
        continue;
      }
    }
    if (o.kind === 'integer' && !/^\d{1,15}$/.test(value)) {
      problems.push(
        `${o.path.join('.')}: must be a non-negative integer, got ${JSON.stringify(value)} (from ${o.env})`,
      );
      continue;
    }
    setPath(raw as Record<string, unknown>, o.path, o.kind === 'integer' ? Number(value) : value);
    fromEnv.set(o.path.join('.'), o.env);
  }
  const validate = validatorFor(opts.schema);
  for (const e of validate(raw) ? [] : (validate.errors ?? [])) {
    const path = keyOf(e);
    const env = fromEnv.get(path);
    problems.push(env ? `${describe(e, path)} (from ${env})` : describe(e, path));
  }
  if (problems.length) throw new ConfigError(problems);
  delete (raw as Record<string, unknown>).$schema;
  return raw as T;
}

/**
 * Compiled validators by schema object. Compiling a role's schema costs tens of milliseconds; the
 * CLI validates twice at startup (the full check, then the role's own load), tests and the config
 * fuzzer load thousands, and schemas are constants.
 */
const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let v = validators.get(schema);
  if (v === undefined) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
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

/** The dotted key an ajv error is about (`rtmp.listen`), or `(root)`. */
function keyOf(e: ErrorObject): string {
  return e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)';
}

/** One problem, starting with the key it is about. */
function describe(e: ErrorObject, key: string): string {
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `${key === '(root)' ? '' : key + '.'}${extra}: unknown key`;
  }
  if (e.keyword === 'pattern' && (e.params as { pattern: string }).pattern === LISTEN_PATTERN) {
    return `${key}: ${JSON.stringify(e.data)} is not ${LISTEN_HINT}`;
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    return `${key}: ${JSON.stringify(e.data)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${key}: ${e.message ?? 'invalid'}`;
}

/**
 * Runs every check and throws one ConfigError with all their problems, so an operator sees
 * everything wrong at once (schema, URLs, files, timings), not one error per attempt.
 */
export function checkAll(checks: readonly (() => unknown)[]): void {
  const problems: string[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
}
