import type { Proto } from './viewer.ts';

export interface EdgeAddress {
  nodeId: string;
  /** rtmp://127.0.0.1:port */
  rtmp: string;
  /** http://127.0.0.1:port */
  http: string;
}

/** The play URL of `key` on an edge, as the scheduler would give it. */
export function playUrl(edge: EdgeAddress, key: string, proto: Proto): string {
  switch (proto) {
    case 'rtmp':
      return `${edge.rtmp}/${key}`;
    case 'flv':
      return `${edge.http}/${key}.flv`;
    default:
      return `${edge.http.replace(/^http/, 'ws')}/${key}.flv`;
  }
}

/**
 * Where a viewer plays: half ask the scheduler (`/api/v1/route`, as a player would), half go
 * round-robin over the edges, so both edges carry load whatever the scheduler prefers (it keeps
 * a stream's viewers on the edges already relaying it). A failed route is counted and the
 * viewer falls back to round-robin.
 */
export class Router {
  routeErrors = 0;
  routed = 0;
  lastRouteError = '';
  private next = 0;
  private readonly scheduler: string;
  private readonly edges: EdgeAddress[];

  constructor(schedulerUrl: string, edges: EdgeAddress[]) {
    this.scheduler = schedulerUrl;
    this.edges = edges;
  }

  async pick(key: string, proto: Proto, viaScheduler: boolean): Promise<{ url: string; edge: string }> {
    if (viaScheduler) {
      try {
        const r = await fetch(`${this.scheduler}/api/v1/route/${key}?protocol=${proto}`, {
          signal: AbortSignal.timeout(3000),
        });
        const body = (await r.json()) as { url?: string; edge?: { nodeId?: string }; error?: string };
        if (r.status !== 200 || typeof body.url !== 'string')
          throw new Error(`HTTP ${r.status}: ${body.error ?? ''}`);
        this.routed++;
        return { url: body.url, edge: body.edge?.nodeId ?? '?' };
      } catch (e) {
        this.routeErrors++;
        this.lastRouteError = (e as Error).message;
      }
    }
    const edge = this.edges[this.next++ % this.edges.length]!;
    return { url: playUrl(edge, key, proto), edge: edge.nodeId };
  }
}
