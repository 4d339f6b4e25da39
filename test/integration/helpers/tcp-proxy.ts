import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that can partition the link it carries, the way a network does:
 * `blackhole()` stops delivering in both directions while every connection stays open (bytes
 * sent meanwhile wait, as TCP retransmits them, and arrive after `heal()` if nobody gave up);
 * new connections are accepted but carry nothing. Unlike a killed peer, nobody sees a close.
 */
export interface TcpProxy {
  /** 127.0.0.1:port clients connect to. */
  port: number;
  blackhole(): void;
  heal(): void;
  /** Resets every connection now (both ends see it at once), as a restarting middlebox would. */
  reset(): void;
  readonly partitioned: boolean;
  close(): Promise<void>;
}

interface Pair {
  a: Socket;
  b: Socket;
  /** Chunks held while partitioned, per direction. */
  held: { toB: Buffer[]; toA: Buffer[] };
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let partitioned = false;

  const pipe = (from: Socket, to: Socket, held: Buffer[]): void => {
    from.on('data', (d: Buffer) => {
      if (partitioned) held.push(d);
      else to.write(d);
    });
  };

  const server: Server = createServer((a) => {
    const b = createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    const pair: Pair = { a, b, held: { toB: [], toA: [] } };
    pairs.add(pair);
    pipe(a, b, pair.held.toB);
    pipe(b, a, pair.held.toA);
    // end(), not destroy(): what heal() just wrote must still go out before the FIN.
    const end = (): void => {
      pairs.delete(pair);
      a.end();
      b.end();
    };
    // A close during a partition is not seen by the other side until it heals.
    const closeFrom = (s: Socket): void => {
      if (!partitioned) return end();
      const wait = setInterval(() => {
        if (partitioned) return;
        clearInterval(wait);
        end();
      }, 20);
      s.once('error', () => undefined);
    };
    a.on('close', () => closeFrom(a));
    b.on('close', () => closeFrom(b));
    a.on('error', () => undefined);
    b.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get partitioned() {
      return partitioned;
    },
    blackhole() {
      partitioned = true;
    },
    heal() {
      partitioned = false;
      for (const p of pairs) {
        for (const d of p.held.toB.splice(0)) p.b.write(d);
        for (const d of p.held.toA.splice(0)) p.a.write(d);
      }
    },
    reset() {
      for (const p of pairs) {
        p.a.resetAndDestroy();
        p.b.resetAndDestroy();
      }
      pairs.clear();
    },
    async close() {
      partitioned = false;
      for (const p of pairs) {
        p.a.destroy();
        p.b.destroy();
      }
      pairs.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
