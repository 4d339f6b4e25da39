import type { RoutingConfig } from './config.ts';
import { isHealthy } from './node-health.ts';
import type { ClusterNode, RegistryReader } from './registry-cache.ts';
import { pickEdge, pickOrigin, type RouteReason } from './routing.ts';
import { streamView, streamViews, type StreamView } from './stream-view.ts';
import { isPlayProtocol, playUrl, publishUrl, PlayProtocol } from './urls.ts';

/** An HTTP answer, independent of the server: status, JSON body, optional redirect. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
  location?: string;
}

export type NodeView = ClusterNode & { healthy: boolean };

export interface RouteAnswer {
  key: string;
  protocol: PlayProtocol;
  edge: { nodeId: string; reason: RouteReason; loadRatio: number };
  url: string;
}

export interface IngestAnswer {
  key: string;
  /** `owner`: the node owns the key now (`epoch` is its claim); else it was picked by load. */
  origin: { nodeId: string; owner: boolean; epoch?: number };
  url: string;
}

export interface SchedulerOptions {
  registry: RegistryReader;
  routing: RoutingConfig;
  heartbeatMs: number;
  now?: () => number;
}

/**
 * Every answer of the scheduler, computed from the registry at call time (through a cache of
 * at most a second): no state survives a request, so any number of replicas agree.
 * Registry failures reject; the HTTP layer turns them into 503.
 */
export class Scheduler {
  private readonly registry: RegistryReader;
  private readonly routing: RoutingConfig;
  private readonly heartbeatMs: number;
  private readonly now: () => number;

  constructor(o: SchedulerOptions) {
    this.registry = o.registry;
    this.routing = o.routing;
    this.heartbeatMs = o.heartbeatMs;
    this.now = o.now ?? Date.now;
  }

  async streams(): Promise<Answer<{ streams: StreamView[] }>> {
    const [owners, nodes] = await Promise.all([this.registry.listStreams(), this.registry.listNodes()]);
    return ok({ streams: streamViews(owners, nodes) });
  }

  async stream(key: string): Promise<Answer<StreamView | ErrorBody>> {
    const [owner, nodes] = await Promise.all([this.registry.lookup(key), this.registry.listNodes()]);
    if (!owner) return fail(404, `stream ${key} is not published`);
    return ok(streamView(owner, nodes));
  }

  async nodes(): Promise<Answer<{ nodes: NodeView[] }>> {
    const now = this.now();
    const nodes = (await this.registry.listNodes())
      .map((n) => ({ ...n, healthy: isHealthy(n, now, this.heartbeatMs) }))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    return ok({ nodes });
  }

  /** The edge a viewer of `key` should play from, and the URL for `protocol` (default flv). */
  async route(key: string, protocol: string | undefined): Promise<Answer<RouteAnswer | ErrorBody>> {
    const p = protocol ?? PlayProtocol.Flv;
    if (!isPlayProtocol(p)) {
      return fail(400, `unknown protocol "${p}"; one of ${Object.values(PlayProtocol).join(', ')}`);
    }
    const nodes = await this.registry.listNodes();
    const choice = pickEdge(key, nodes, {
      now: this.now(),
      heartbeatMs: this.heartbeatMs,
      maxLoadRatio: this.routing.maxLoadRatio,
      preferRelaying: this.routing.preferRelaying,
      // Only nodes that say they serve the protocol (and have an address for it).
      eligible: (n) => (n.protocols ?? []).includes(p) && playUrl(p, n.public ?? {}, key) !== null,
    });
    if (!choice) return fail(503, `no edge available that serves ${p}`);
    return ok({
      key,
      protocol: p,
      edge: { nodeId: choice.node.nodeId, reason: choice.reason, loadRatio: round3(choice.loadRatio) },
      url: playUrl(p, choice.node.public, key)!,
    });
  }

  /** `route` as a 302 to the edge's URL; the client's query (tokens) goes along. */
  async play(key: string, protocol: PlayProtocol, search: string): Promise<Answer<RouteAnswer | ErrorBody>> {
    const a = await this.route(key, protocol);
    if (a.status !== 200) return a;
    const url = (a.body as RouteAnswer).url + search;
    return { status: 302, body: a.body, location: url };
  }

  /** The origin a publisher of `key` should use: its owner if any, else the least-loaded origin. */
  async ingest(key: string): Promise<Answer<IngestAnswer | ErrorBody>> {
    const [owner, nodes] = await Promise.all([this.registry.lookup(key), this.registry.listNodes()]);
    const choice = pickOrigin(key, owner, nodes, {
      now: this.now(),
      heartbeatMs: this.heartbeatMs,
      eligible: (n) => publishUrl(n.public ?? {}, key) !== null,
    });
    if (!choice) {
      return fail(
        503,
        owner ? `stream ${key} is owned by ${owner.nodeId}, which is not reachable` : 'no origin available',
      );
    }
    const url = publishUrl(choice.node.public ?? {}, key);
    if (!url) return fail(503, `origin ${choice.node.nodeId} has no public RTMP address`);
    const origin = owner
      ? { nodeId: choice.node.nodeId, owner: true, epoch: owner.epoch }
      : { nodeId: choice.node.nodeId, owner: false };
    return ok({ key, origin, url });
  }
}

export interface ErrorBody {
  error: string;
}

function ok<T>(body: T): Answer<T> {
  return { status: 200, body };
}

function fail(status: number, error: string): Answer<ErrorBody> {
  return { status, body: { error } };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
