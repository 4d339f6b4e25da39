import { NodeRole, type PlayProtocol } from '../../libs/cluster/types.ts';
import type { ClusterView } from './cluster-view.ts';
import { PROTOCOL_BIT, type NodeEntry } from './node-entry.ts';
import { freeConnections, loadRatio, originLoadRatio } from './node-health.ts';
import { publishUrl } from './urls.ts';

export interface CandidateRules {
  /** An edge whose (players + relays) / maxConnections exceeds this gets no new viewers. */
  maxLoadRatio: number;
}

/** The edges a viewer of one protocol may be sent to, with their HRW weights (free connections). */
export interface EdgeList {
  readonly entries: readonly NodeEntry[];
  readonly weights: Float64Array;
}

/**
 * Routing candidates, kept between requests instead of filtered per request: healthy,
 * non-draining edges under the load ratio with a free connection, one list per protocol they
 * serve, and the origins that can take a new publisher.
 *
 * Rebuilt from scratch when the view's `version` moves (a node comes, goes, comes back to life,
 * drains) or when the earliest candidate's liveness runs out on the clock; a heartbeat that
 * only moves a node's load updates its weight in place. A route then costs one hash per
 * candidate and nothing else.
 */
export class Candidates {
  private readonly view: ClusterView;
  private readonly rules: CandidateRules;
  private builtVersion = -1;
  private validUntil = -Infinity;
  private edges: { entries: NodeEntry[]; weights: Float64Array }[] = [];
  private originList: NodeEntry[] = [];

  constructor(view: ClusterView, rules: CandidateRules) {
    this.view = view;
    this.rules = rules;
  }

  edgesFor(protocol: PlayProtocol, now: number): EdgeList {
    this.refresh(now);
    return this.edges[PROTOCOL_INDEX[protocol]] ?? EMPTY;
  }

  /** Healthy, non-draining origins with room and a public RTMP address. */
  origins(now: number): readonly NodeEntry[] {
    this.refresh(now);
    return this.originList;
  }

  /** Whether `e` is a candidate for `protocol` as of the last refresh (call edgesFor first). */
  static isCandidate(e: NodeEntry, protocol: PlayProtocol): boolean {
    return (e.candMask & PROTOCOL_BIT[protocol]) !== 0;
  }

  private refresh(now: number): void {
    if (this.builtVersion !== this.view.version || now > this.validUntil || !this.updateLoads()) {
      this.rebuild(now);
    }
  }

  /** Applies load-only changes in place; false when one changes who is a candidate (rebuild). */
  private updateLoads(): boolean {
    const changed = this.view.loadChanged;
    if (changed.size === 0) return true;
    for (const e of changed) {
      if (e.info.role === NodeRole.Origin) {
        if (this.originEligible(e) !== this.originList.includes(e)) return false;
        e.candRatio = originLoadRatio(e.info);
        continue;
      }
      if (e.info.role !== NodeRole.Edge) continue;
      const ratio = loadRatio(e.info);
      const free = freeConnections(e.info);
      if (this.eligible(e, ratio, free) !== (e.candMask !== 0)) return false;
      if (e.candMask === 0) continue;
      e.candRatio = ratio;
      for (let i = 0; i < PROTOCOL_BITS.length; i++) {
        if ((e.candMask & PROTOCOL_BITS[i]!) !== 0) this.edges[i]!.weights[e.candIdx[i]!] = free;
      }
    }
    changed.clear();
    return true;
  }

  private originEligible(e: NodeEntry): boolean {
    return originLoadRatio(e.info) < 1 && publishUrl(e.info.public ?? {}, 'a/b') !== null;
  }

  private eligible(e: NodeEntry, ratio: number, free: number): boolean {
    return ratio <= this.rules.maxLoadRatio && free > 0 && e.playMask !== 0;
  }

  private rebuild(now: number): void {
    const { view } = this;
    const lists = PROTOCOL_BITS.map(() => ({ entries: [] as NodeEntry[], weights: [] as number[] }));
    const origins: NodeEntry[] = [];
    let validUntil = Infinity;
    const twoBeats = 2 * view.heartbeatMs;
    const fallbackUntil = view.fallbackUntil();
    for (const e of view.nodes()) {
      e.candMask = 0;
      e.candRatio = Infinity;
      if (!view.healthy(e, now)) continue;
      // Healthy until the later of its heartbeat running out and the reconcile fallback ending.
      let until = now - e.heardAt <= twoBeats ? e.heardAt + twoBeats : -Infinity;
      if (e.listedGen === view.listedGen) until = Math.max(until, fallbackUntil);
      if (e.info.role === NodeRole.Origin) {
        if (this.originEligible(e)) {
          origins.push(e);
          e.candRatio = originLoadRatio(e.info);
          validUntil = Math.min(validUntil, until);
        }
        continue;
      }
      if (e.info.role !== NodeRole.Edge) continue;
      const ratio = loadRatio(e.info);
      const free = freeConnections(e.info);
      if (!this.eligible(e, ratio, free)) continue;
      e.candMask = e.playMask;
      e.candRatio = ratio;
      validUntil = Math.min(validUntil, until);
      for (let i = 0; i < PROTOCOL_BITS.length; i++) {
        if ((e.playMask & PROTOCOL_BITS[i]!) === 0) continue;
        const l = lists[i]!;
        e.candIdx[i] = l.entries.length;
        l.entries.push(e);
        l.weights.push(free);
      }
    }
    this.edges = lists.map((l) => ({ entries: l.entries, weights: Float64Array.from(l.weights) }));
    this.originList = origins;
    this.builtVersion = view.version;
    this.validUntil = validUntil;
    view.loadChanged.clear();
  }
}

const PROTOCOLS = Object.keys(PROTOCOL_BIT) as PlayProtocol[];
const PROTOCOL_BITS = PROTOCOLS.map((p) => PROTOCOL_BIT[p]);
const PROTOCOL_INDEX = Object.fromEntries(PROTOCOLS.map((p, i) => [p, i])) as Record<PlayProtocol, number>;
const EMPTY: EdgeList = { entries: [], weights: new Float64Array(0) };
