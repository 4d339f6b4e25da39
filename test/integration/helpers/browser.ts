import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

// Headless Chromium (Debian's package, which plays H.264/AAC) driven by playwright-core, and a
// tiny static server for the pages it opens.

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Launches headless Chromium; fails with what to install when it is missing (never skips). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: the browser tests need Debian's chromium package ` +
        '(bash scripts/setup-test-deps.sh installs it, or apt-get install chromium)',
    );
  }
  try {
    // playwright-core passes --no-sandbox unless chromiumSandbox is set: the tests run as root.
    return await chromium.launch({ executablePath: CHROMIUM_PATH, timeout: 30_000 });
  } catch (e) {
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${(e as Error).message}`, { cause: e });
  }
}

export interface StaticFile {
  file: string;
  contentType: string;
}

export interface PageServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  close(): Promise<void>;
}

/** Serves `files` (URL path to file on disk) on a free loopback port; anything else is a 404. */
export async function servePages(files: Record<string, StaticFile>): Promise<PageServer> {
  const bodies = new Map(
    Object.entries(files).map(([path, f]) => [path, { ...f, body: readFileSync(f.file) }]),
  );
  const server = createServer((req, res) => {
    const f = bodies.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!f || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': f.contentType, 'Content-Length': f.body.length });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
