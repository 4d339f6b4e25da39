import { performance } from 'node:perf_hooks';
import type { FakeNode } from '../integration/helpers/fake-node.ts';

// Checks of the scheduler's view against what the simulated nodes really serve, and the cost
// of reading the paged listings whole.

interface Page {
  nodes?: { nodeId: string; streamCount: number; healthy: boolean }[];
  streams?: { key: string }[];
  nextCursor: string | null;
}

/** Reads a listing whole in pages of 1,000: the requests it took and the time. */
export async function readAll(
  url: string,
  listing: 'nodes' | 'streams',
): Promise<{ items: Page[]; pages: number; ms: number }> {
  const items: Page[] = [];
  let cursor: string | null = null;
  const t0 = performance.now();
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const page = (await (await fetch(`${url}/api/v1/${listing}?limit=1000${q}`)).json()) as Page;
    items.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, pages: items.length, ms: performance.now() - t0 };
}

/**
 * Nodes the view gets wrong: unhealthy, or serving a different number of streams than the node
 * says (checked once presence has had a heartbeat to arrive).
 */
export async function viewDrift(url: string, nodes: readonly FakeNode[]): Promise<number> {
  const { items } = await readAll(url, 'nodes');
  const seen = new Map<string, { streamCount: number; healthy: boolean }>();
  for (const p of items) for (const n of p.nodes ?? []) seen.set(n.nodeId, n);
  let wrong = 0;
  for (const n of nodes) {
    const v = seen.get(n.nodeId);
    if (!v || !v.healthy || v.streamCount !== n.streamKeys().length) wrong++;
  }
  return wrong;
}
