import { silentLogger, type Logger } from '../log/logger.ts';
import { Counters } from '../metrics/counters.ts';
import {
  answerControl,
  BusReporter,
  ControlError,
  ControlErrorCode,
  controlSubject,
  decodeControlReply,
  dispatchEvent,
  encodeEvent,
  isSubject,
  targetName,
  type ControlHandler,
} from './event-schemas.ts';
import type { ControlReply, ControlRequest, ControlTarget, EventBus, EventMap, Subject } from './types.ts';

export interface MemoryBusOptions {
  log?: Logger;
  counters?: Counters;
}

type Entry = { fn: (event: unknown) => void };
type Pending = { nodeId: string; reject: (e: Error) => void; timer: NodeJS.Timeout };

/**
 * The event bus of a standalone node: the same contract as NatsBus inside one process.
 * Events still go through JSON and both schema checks, so a standalone node behaves like a
 * cluster node (same validation, same counters); delivery is deferred to a microtask so
 * publish never re-enters its caller.
 */
export class MemoryBus implements EventBus {
  private readonly report: BusReporter;
  private readonly handlers = new Map<Subject, Set<Entry>>();
  private readonly groups = new Map<string, { members: Entry[]; stop: () => void }>();
  /** Control subject -> handlers; the first one answers, like the first NATS responder. */
  private readonly servers = new Map<string, ControlHandler[]>();
  private readonly pending = new Set<Pending>();
  private closed = false;

  constructor(opts: MemoryBusOptions = {}) {
    this.report = new BusReporter(opts.log ?? silentLogger(), opts.counters ?? new Counters());
  }

  get connected(): boolean {
    return !this.closed;
  }

  publish<S extends Subject>(subject: S, event: EventMap[S]): void {
    const data = encodeEvent(subject, event);
    if (this.closed) {
      this.report.dropped(subject, 'bus closed');
      return;
    }
    queueMicrotask(() => this.injectRaw(subject, data));
  }

  /**
   * Delivers a payload as if it had come off the wire (decoded and validated on receipt,
   * invalid ones counted): the receive path without publish's checks, for tests.
   */
  injectRaw(subject: string, data: Uint8Array | string): void {
    if (this.closed || !isSubject(subject)) return;
    const set = this.handlers.get(subject);
    if (!set?.size) return;
    // Snapshot, but skip handlers unsubscribed by an earlier handler of the same event.
    const live = [...set].map((e) => (event: unknown) => {
      if (set.has(e)) e.fn(event);
    });
    dispatchEvent(subject, data, live, this.report);
  }

  subscribe<S extends Subject>(subject: S, handler: (event: EventMap[S]) => void): () => void {
    if (this.closed) return () => {};
    let set = this.handlers.get(subject);
    if (!set) this.handlers.set(subject, (set = new Set()));
    const entry: Entry = { fn: handler as (event: unknown) => void };
    set.add(entry);
    return () => void set.delete(entry);
  }

  /**
   * Within one process a queue group is a set of handlers taking turns: each event goes to
   * one member (round robin), as NATS gives each message to one member of a queue group.
   */
  subscribeQueue<S extends Subject>(
    subject: S,
    queue: string,
    handler: (event: EventMap[S]) => void,
  ): () => void {
    if (this.closed) return () => {};
    const id = `${subject}\n${queue}`;
    let group = this.groups.get(id);
    if (!group) {
      const members: Entry[] = [];
      let turn = 0;
      const g = {
        members,
        // One plain handler per group: it passes each event to the next member.
        stop: this.subscribe(subject, (event) => {
          if (members.length === 0) return;
          const m = members[turn++ % members.length]!;
          m.fn(event);
        }),
      };
      this.groups.set(id, g);
      group = g;
    }
    const g = group;
    const entry: Entry = { fn: handler as (event: unknown) => void };
    g.members.push(entry);
    return () => {
      const i = g.members.indexOf(entry);
      if (i >= 0) g.members.splice(i, 1);
      if (g.members.length === 0 && this.groups.get(id) === g) {
        g.stop();
        this.groups.delete(id);
      }
    };
  }

  serveControl(target: ControlTarget, handler: ControlHandler): () => void {
    const subject = controlSubject(target);
    if (this.closed) return () => {};
    const list = this.servers.get(subject) ?? [];
    this.servers.set(subject, [...list, handler]);
    return () => {
      const rest = (this.servers.get(subject) ?? []).filter((h) => h !== handler);
      if (rest.length) this.servers.set(subject, rest);
      else this.servers.delete(subject);
    };
  }

  requestControl(target: ControlTarget, req: ControlRequest, timeoutMs: number): Promise<ControlReply> {
    return new Promise<ControlReply>((resolve, reject) => {
      const subject = controlSubject(target);
      const nodeId = targetName(target);
      if (this.closed) throw new ControlError(ControlErrorCode.Closed, nodeId, 'event bus closed');
      const handler = this.servers.get(subject)?.[0];
      if (!handler)
        throw new ControlError(ControlErrorCode.NoResponders, nodeId, `no node ${nodeId} serves control`);
      const data = JSON.stringify(req);
      const p: Pending = {
        nodeId,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(p);
          reject(
            new ControlError(
              ControlErrorCode.Timeout,
              nodeId,
              `control request to ${nodeId} timed out after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.pending.add(p);
      // The handler runs on a later tick, as it would on another node, never inside the caller.
      queueMicrotask(() => {
        void answerControl(subject, data, handler, this.report).then((reply) => {
          if (!this.pending.delete(p)) return; // timed out or closed: the reply is dropped, as on NATS
          clearTimeout(p.timer);
          try {
            resolve(decodeControlReply(nodeId, reply));
          } catch (e) {
            reject(e as Error);
          }
        });
      });
    });
  }

  /** Resolves once events published so far have been delivered. */
  async flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.handlers.clear();
    this.groups.clear();
    this.servers.clear();
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ControlError(ControlErrorCode.Closed, p.nodeId, 'event bus closed'));
    }
    this.pending.clear();
    return Promise.resolve();
  }
}
