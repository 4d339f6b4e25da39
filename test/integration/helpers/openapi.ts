import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

type Json = Record<string, unknown>;

/**
 * Validates real responses against an OpenAPI 3.1 document's response schemas (JSON Schema
 * 2020-12, so ajv's 2020 dialect reads them as they are). The answer's path, method and status
 * pick the schema; a response the document does not describe is a failure too.
 */
export class OpenApiChecker {
  readonly doc: Json;
  private readonly ajv: Ajv2020;
  /** `METHOD path status` checked so far. */
  readonly covered = new Set<string>();

  constructor(file: string | URL) {
    this.doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    this.ajv.addSchema({ ...this.doc, $id: 'openapi' });
  }

  /** Every `METHOD path` the document declares. */
  operations(): string[] {
    const out: string[] = [];
    for (const [path, item] of Object.entries(this.doc.paths as Json)) {
      for (const m of Object.keys(item as Json)) out.push(`${m.toUpperCase()} ${path}`);
    }
    return out;
  }

  /** Throws with ajv's errors when `body` does not match the documented response. */
  check(method: string, path: string, status: number, body: unknown): void {
    const paths = this.doc.paths as Record<string, Record<string, { responses: Json }>>;
    const op = paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${path} is not in the document`);
    let resp = op.responses[String(status)] as Json | undefined;
    if (!resp) throw new Error(`${method} ${path}: status ${status} is not documented`);
    if (typeof resp.$ref === 'string') resp = this.resolve(resp.$ref);
    const content = resp.content as Record<string, { schema: Json }> | undefined;
    const schema = content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method} ${path} ${status}: no JSON schema`);
    const ref = typeof schema.$ref === 'string' ? `openapi${schema.$ref}` : null;
    const validate = ref ? this.ajv.getSchema(ref) : this.ajv.compile(schema);
    if (!validate) throw new Error(`cannot resolve ${String(schema.$ref)}`);
    if (!validate(body)) {
      throw new Error(
        `${method} ${path} ${status} does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
      );
    }
    this.covered.add(`${method.toUpperCase()} ${path}`);
  }

  private resolve(ref: string): Json {
    let cur: unknown = this.doc;
    for (const part of ref.replace(/^#\//, '').split('/')) cur = (cur as Json)[part];
    return cur as Json;
  }
}
