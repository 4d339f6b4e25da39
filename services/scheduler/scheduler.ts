import type { StreamOwner } from '../../libs/cluster/types.ts';
import type { Candidates } from './candidates.ts';
import type { ClusterView } from './cluster-view.ts';
import type { RoutingConfig } from './config.ts';
import type { OwnerLookups } from './owner-lookups.ts';
import { pageOf, type PageRequest } from './page.ts';
import { pickEdge, pickOrigin, type RouteReason } from './routing.ts';
import { nodeView, streamView, type NodeView, type StreamView } from './stream-view.ts';
import { isPlayProtocol, playUrl, publishUrl, PlayProtocol } from './urls.ts';

/** An HTTP answer, independent of the server: status, JSON body, optional redirect. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
  location?: string;
}

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

export interface StreamsPage {
  streams: StreamView[];
  /** Pass as `?cursor=` for the next page; null on the last one. */
  nextCursor: string | null;
  total: number;
}

export interface NodesPage {
  nodes: NodeView[];
  nextCursor: string | null;
  total: number;
}

export interface SchedulerOptions {
  view: ClusterView;
  candidates: Candidates;
  lookups: OwnerLookups;
  routing: RoutingConfig;
}

/**
 * Every answer of the scheduler. Routing (`route`, `play`) and the listings answer from the
 * in-memory view alone; `stream` and `ingest` read Redis for an owner the view does not have
 * (and `ingest` also when the owner it has looks gone). Registry failures reject; the HTTP
 * layer turns them into 503.
 */
export class Scheduler {
  private readonly view: ClusterView;
  private readonly candidates: Candidates;
  private readonly lookups: OwnerLookups;
  private readonly routing: RoutingConfig;

  constructor(o: SchedulerOptions) {
    this.view = o.view;
    this.candidates = o.candidates;
    this.lookups = o.lookups;
    this.routing = o.routing;
  }

  /** A page of streams in key order: O(page). */
  streams(page: PageRequest): Answer<StreamsPage> {
    const keys = this.view.streamKeysAfter(page.after, page.limit + 1);
    const p = pageOf('streams', keys, page.limit);
    const streams: StreamView[] = [];
    for (const k of p.keys) {
      const o = this.view.owner(k);
      if (o) streams.push(streamView(o, this.view));
    }
    return ok({ streams, nextCursor: p.nextCursor, total: this.view.streamCount });
  }

  /**
   * One stream: from the view; from Redis when the view does not have it, or does not know its
   * codecs yet (origins record them once the first frames arrive, without an event).
   */
  async stream(key: string): Promise<Answer<StreamView | ErrorBody>> {
    const owner = await this.ownerWithMedia(key);
    if (!owner) return fail(404, `stream ${key} is not published`);
    return ok(streamView(owner, this.view));
  }

  /** The key's owner, read from Redis when the view lacks it or its codecs; rejects only when Redis fails and the view has nothing. */
  async ownerWithMedia(key: string): Promise<StreamOwner | null> {
    let owner: StreamOwner | null = this.view.owner(key) ?? null;
    if (!owner || Object.keys(owner.media).length === 0) {
      const known = owner;
      // With Redis down, what the view has is the answer.
      const read = await this.lookups.lookup(key).catch((e: unknown) => {
        if (known) return known;
        throw e;
      });
      owner = this.view.owner(key) ?? read;
    }
    return owner;
  }

  /** A page of nodes in id order: O(page). */
  nodes(page: PageRequest): Answer<NodesPage> {
    const now = this.view.now();
    const ids = this.view.nodeIdsAfter(page.after, page.limit + 1);
    const p = pageOf('nodes', ids, page.limit);
    const nodes: NodeView[] = [];
    for (const id of p.keys) {
      const e = this.view.node(id);
      if (e) nodes.push(nodeView(e, this.view, now));
    }
    return ok({ nodes, nextCursor: p.nextCursor, total: this.view.nodeCount });
  }

  /** The edge a viewer of `key` should play from, and the URL for `protocol` (default flv). */
  route(key: string, protocol: string | undefined): Answer<RouteAnswer | ErrorBody> {
    const p = protocol ?? PlayProtocol.Flv;
    if (!isPlayProtocol(p)) {
      return fail(400, `unknown protocol "${p}"; one of ${Object.values(PlayProtocol).join(', ')}`);
    }
    const choice = pickEdge(this.view, this.candidates, key, p, {
      now: this.view.now(),
      preferRelaying: this.routing.preferRelaying,
    });
    // Candidates serve `p` and have an address for it (node-entry.ts playMask).
    const url = choice ? playUrl(p, choice.node.info.public, key) : null;
    if (!choice || url === null) return fail(503, `no edge available that serves ${p}`);
    return ok({
      key,
      protocol: p,
      edge: { nodeId: choice.node.nodeId, reason: choice.reason, loadRatio: round3(choice.loadRatio) },
      url,
    });
  }

  /** `route` as a 302 to the edge's URL; the client's query (tokens) goes along. */
  play(key: string, protocol: PlayProtocol, search: string): Answer<RouteAnswer | ErrorBody> {
    const a = this.route(key, protocol);
    if (a.status !== 200) return a;
    const url = (a.body as RouteAnswer).url + search;
    return { status: 302, body: a.body, location: url };
  }

  /** The origin a publisher of `key` should use: its owner if any, else the least-loaded origin. */
  async ingest(key: string): Promise<Answer<IngestAnswer | ErrorBody>> {
    const now = this.view.now();
    let owner: StreamOwner | null = this.view.owner(key) ?? null;
    const ownerNode = owner ? this.view.node(owner.nodeId) : undefined;
    const ownerLive =
      owner && ownerNode?.info.instanceId === owner.instanceId && this.view.healthy(ownerNode, now);
    // No owner in the view, or one that looks gone: Redis knows whether the claim still holds.
    if (!ownerLive) owner = await this.lookups.lookup(key);
    const choice = pickOrigin(this.view, this.candidates, key, owner, now);
    if (!choice) {
      return fail(
        503,
        owner ? `stream ${key} is owned by ${owner.nodeId}, which is not reachable` : 'no origin available',
      );
    }
    const url = publishUrl(choice.node.info.public ?? {}, key);
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
