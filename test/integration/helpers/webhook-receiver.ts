import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

/** How the receiver answers a request: a status, or 'hang' (never answers). */
export type Answer = (path: string, n: number) => number | 'hang';

/** A real HTTP receiver on loopback that records every POST (raw body kept for signatures). */
export async function startReceiver(answer: Answer = () => 200): Promise<{
  url: string;
  hooks: ReceivedHook[];
  close(): Promise<void>;
}> {
  const hooks: ReceivedHook[] = [];
  const perPath = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const n = (perPath.get(path) ?? 0) + 1;
      perPath.set(path, n);
      const a = answer(path, n);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // recorded as {}; the test sees it
      }
      hooks.push({ path, headers: req.headers, raw, body, at: Date.now() });
      if (a === 'hang') return;
      res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hooks,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
