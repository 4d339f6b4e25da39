import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/** One file a URL path maps to. */
export interface StaticFile {
  /** Absolute path on disk. */
  file: string;
  contentType: string;
}

interface Loaded {
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

/** Bodies smaller than this go uncompressed: gzip would barely help. */
const GZIP_MIN_BYTES = 1024;

/**
 * A fixed allow-list of files by exact URL path: no path is ever joined to a directory, so
 * `..`, encoded slashes or anything else not in the list is simply not found. Each file is read
 * on its first request and kept in memory (with its gzip form), since the list is small and fixed.
 */
export class StaticFiles {
  private readonly files: ReadonlyMap<string, StaticFile>;
  private readonly loaded = new Map<string, Loaded>();

  constructor(files: Record<string, StaticFile>) {
    this.files = new Map(Object.entries(files));
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /**
   * Answers GET/HEAD of `path` with `headers` added; false when `path` is not in the list (the
   * caller answers). A file that cannot be read throws (the caller's 500).
   */
  serve(req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string>): boolean {
    const f = this.files.get(path);
    if (!f) return false;
    const l = this.load(path, f);
    const base = { ...headers, 'Content-Type': f.contentType, ETag: l.etag, 'Cache-Control': 'no-cache' };
    if (req.headers['if-none-match'] === l.etag) {
      res.writeHead(304, base).end();
      return true;
    }
    const gzip = l.gzip !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip && l.gzip ? l.gzip : l.body;
    res.writeHead(200, {
      ...base,
      'Content-Length': String(body.length),
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private load(path: string, f: StaticFile): Loaded {
    let l = this.loaded.get(path);
    if (!l) {
      const body = readFileSync(f.file);
      l = {
        body,
        gzip: body.length >= GZIP_MIN_BYTES ? gzipSync(body) : null,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      };
      this.loaded.set(path, l);
    }
    return l;
  }
}
