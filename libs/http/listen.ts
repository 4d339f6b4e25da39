import type { Server } from 'node:net';

/**
 * Listens and resolves with the bound address (the real port when 0 was asked for).
 * `host` empty means every interface: Node binds `::` with IPv6-only off, so IPv4 clients are
 * served too (dual stack, unless the system sets net.ipv6.bindv6only=1), and falls back to
 * `0.0.0.0` where the host has no IPv6. An explicit `::` is dual stack the same way.
 */
export function listenOn(
  server: Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port });
    };
    if (host === '') server.listen({ port, ipv6Only: false }, onListening);
    else server.listen({ host, port, ipv6Only: false }, onListening);
  });
}

/** A listener that could not bind, named by its config key; the CLI prints it and exits 1. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly code: string | undefined;
  constructor(key: string, address: string, cause: unknown) {
    const err = cause as NodeJS.ErrnoException;
    super(`cannot listen on ${address} (${key}): ${err.message}`, { cause });
    this.code = err.code;
  }
}
