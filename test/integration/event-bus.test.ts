import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { ControlErrorCode, InvalidEventError } from '../../libs/cluster/event-schemas.ts';
import { MemoryBus } from '../../libs/cluster/memory-bus.ts';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import {
  Subject,
  type ControlReply,
  type ControlRequest,
  type EventBus,
  type EventMap,
} from '../../libs/cluster/types.ts';
import { Counters } from '../../libs/metrics/counters.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { freePort } from './helpers/net.ts';

// One behavioural suite, run against NatsBus (two clients on a real nats-server) and
// MemoryBus; NATS outages and late starts only apply to NatsBus.

type TestBus = EventBus & { flush(): Promise<void> };

interface Pair {
  /** Publisher / requester. */
  a: TestBus;
  /** Subscriber / control server. */
  b: TestBus;
  /** b's counters. */
  counters: Counters;
  /** A payload from outside the bus (no publish-side checks), in order with later ones. */
  injectRaw(subject: string, data: string): Promise<void>;
  close(): Promise<void>;
}

const now = Date.now();
const base = { v: 1, nodeId: 'node-a', instanceId: 'node-a-instance-1', ts: now } as const;
const examples: { [S in Subject]: EventMap[S] } = {
  [Subject.StreamPublished]: { ...base, key: 'live/cam1', epoch: 1, sessionId: 'pub-1' },
  [Subject.StreamUnpublished]: { ...base, key: 'live/cam1', epoch: 1, sessionId: 'pub-1', reason: 'closed' },
  [Subject.SessionStarted]: {
    ...base,
    sessionId: 'play-1',
    kind: 'player',
    protocol: 'http-flv',
    key: 'live/cam1',
    remote: '127.0.0.1:5000',
    epoch: 1,
  },
  [Subject.SessionStopped]: {
    ...base,
    sessionId: 'play-1',
    kind: 'player',
    protocol: 'http-flv',
    key: 'live/cam1',
    remote: '127.0.0.1:5000',
    durationMs: 1500,
    bytesIn: 10,
    bytesOut: 100_000,
    reason: 'closed',
  },
  [Subject.RelayStarted]: { ...base, key: 'live/cam1', fromNodeId: 'origin-1', epoch: 1 },
  [Subject.RelayStopped]: { ...base, key: 'live/cam1', fromNodeId: 'origin-1', epoch: 1, reason: 'idle' },
  [Subject.NodeHeartbeat]: {
    ...base,
    role: 'edge',
    internal: { rtmp: '10.0.0.5:1935' },
    public: { rtmp: 'edge.example:1935', http: 'edge.example:8080' },
    protocols: ['rtmp', 'flv', 'ws-flv'],
    startedAt: now - 60_000,
    presenceSeq: 3,
    draining: false,
    load: {
      publishers: 0,
      players: 3,
      relays: 1,
      bytesInPerSec: 1000,
      bytesOutPerSec: 3000,
      cpuPercent: 2.5,
      maxConnections: 100,
    },
  },
  [Subject.NodePresence]: {
    ...base,
    seq: 4,
    streams: { 'live/cam1': { viewers: 3, relaying: true, publishing: false }, 'live/old': null },
  },
  [Subject.RecordStarted]: {
    ...base,
    key: 'live/cam1',
    format: 'flv',
    path: '/rec/flv/live/cam1/cam1-20261127-180501-0a1b2c3d.flv',
    sessionId: 'rtmp-0a1b2c3d',
  },
  [Subject.RecordStopped]: {
    ...base,
    key: 'live/cam1',
    format: 'flv',
    path: '/rec/flv/live/cam1/cam1-20261127-180501-0a1b2c3d.flv',
    sessionId: 'rtmp-0a1b2c3d',
    bytes: 1_000_000,
    durationMs: 60_000,
    droppedFrames: 0,
    reason: 'unpublished',
  },
};
const published = (n: number): EventMap[typeof Subject.StreamPublished] => ({
  ...examples[Subject.StreamPublished],
  sessionId: `pub-${n}`,
});

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

function collect<S extends Subject>(bus: EventBus, subject: S): { events: EventMap[S][]; stop: () => void } {
  const events: EventMap[S][] = [];
  const stop = bus.subscribe(subject, (e) => events.push(e));
  return { events, stop };
}

const rejectsWith = async (p: Promise<unknown>, code: string): Promise<number> => {
  const t0 = Date.now();
  await assert.rejects(p, { code });
  return Date.now() - t0;
};

let nats: NatsServer;
let raw: NatsConnection;
before(async () => {
  nats = await startNats();
  raw = await connect({ servers: nats.url });
});
after(async () => {
  await raw.close();
  await nats.stop();
});

const implementations: { name: string; make(): Promise<Pair> }[] = [
  {
    name: 'NatsBus',
    async make() {
      const counters = new Counters();
      const a = await NatsBus.connect({ url: nats.url, name: 'node-a' });
      const b = await NatsBus.connect({ url: nats.url, name: 'node-b', counters });
      return {
        a,
        b,
        counters,
        async injectRaw(subject, data) {
          raw.publish(subject, data);
          await raw.flush();
        },
        close: async () => void (await Promise.all([a.close(), b.close()])),
      };
    },
  },
  {
    name: 'MemoryBus',
    make() {
      const counters = new Counters();
      const bus = new MemoryBus({ counters });
      return Promise.resolve({
        a: bus,
        b: bus,
        counters,
        injectRaw: (subject, data) => Promise.resolve(bus.injectRaw(subject, data)),
        close: () => bus.close(),
      });
    },
  },
];

for (const impl of implementations) {
  describe(`${impl.name}: events`, () => {
    let p: Pair;
    before(async () => (p = await impl.make()));
    after(() => p.close());

    it('is connected', () => assert.equal(p.a.connected && p.b.connected, true));

    it('every subject round-trips, validated on both sides', async () => {
      const got = Object.values(Subject).map((s) => collect(p.b, s));
      await p.b.flush();
      for (const s of Object.values(Subject)) p.a.publish(s, examples[s] as never);
      await waitFor(() => got.every((c) => c.events.length === 1), 3000, 'one event per subject');
      Object.values(Subject).forEach((s, i) => assert.deepEqual(got[i]!.events, [examples[s]], s));
      for (const c of got) c.stop();
    });

    it('publish never re-enters the caller', async () => {
      let inPublish = false;
      let reentered = false;
      const stop = p.a.subscribe(Subject.RelayStarted, () => (reentered ||= inPublish));
      await p.a.flush();
      inPublish = true;
      p.a.publish(Subject.RelayStarted, examples[Subject.RelayStarted]);
      inPublish = false;
      await p.a.flush();
      await new Promise((r) => setTimeout(r, 50));
      stop();
      assert.equal(reentered, false);
    });

    it('publish throws on an invalid event (a bug at the caller)', () => {
      const bad = { ...examples[Subject.StreamPublished], key: 'no-slash' };
      assert.throws(() => p.a.publish(Subject.StreamPublished, bad), InvalidEventError);
      assert.throws(
        () => p.a.publish(Subject.SessionStarted, { ...examples[Subject.SessionStarted], extra: 1 } as never),
        InvalidEventError,
      );
    });

    it('invalid payloads from outside are counted and dropped, valid ones still arrive', async () => {
      const c = collect(p.b, Subject.StreamPublished);
      await p.b.flush();
      const subject = Subject.StreamPublished;
      const before = p.counters.get('events_invalid', { subject });
      await p.injectRaw(subject, 'not json');
      await p.injectRaw(subject, JSON.stringify({ ...published(1), v: 2 }));
      await p.injectRaw(subject, JSON.stringify({ ...published(2), key: '../etc' }));
      await p.injectRaw(subject, JSON.stringify(published(3)));
      await waitFor(() => c.events.length >= 1, 3000, 'the valid event');
      assert.deepEqual(c.events, [published(3)]);
      assert.equal(p.counters.get('events_invalid', { subject }) - before, 3);
      c.stop();
    });

    it('a throwing handler is counted and breaks neither other handlers nor later events', async () => {
      const subject = Subject.StreamUnpublished;
      let thrown = 0;
      const stopBad = p.b.subscribe(subject, () => {
        thrown++;
        throw new Error('handler bug');
      });
      const good = collect(p.b, subject);
      await p.b.flush();
      p.a.publish(subject, { ...examples[subject], sessionId: 'x1' });
      p.a.publish(subject, { ...examples[subject], sessionId: 'x2' });
      await waitFor(() => good.events.length === 2, 3000, 'two events');
      assert.deepEqual(
        good.events.map((e) => e.sessionId),
        ['x1', 'x2'],
      );
      assert.equal(thrown, 2);
      assert.equal(p.counters.get('events_handler_errors', { subject }), 2);
      stopBad();
      good.stop();
    });

    it('unsubscribe stops delivery to that handler only', async () => {
      const subject = Subject.RelayStopped;
      const one = collect(p.b, subject);
      const two = collect(p.b, subject);
      await p.b.flush();
      p.a.publish(subject, examples[subject]);
      await waitFor(() => one.events.length === 1 && two.events.length === 1, 3000, 'first event');
      one.stop();
      one.stop(); // idempotent
      await p.b.flush();
      p.a.publish(subject, { ...examples[subject], reason: 'second' });
      await waitFor(() => two.events.length === 2, 3000, 'second event');
      assert.equal(one.events.length, 1);
      two.stop();
    });

    it('received events are frozen: one handler cannot change what the next sees', async () => {
      const subject = Subject.NodeHeartbeat;
      const stopBad = p.b.subscribe(subject, (e) => {
        e.load.players = 999;
      });
      const good = collect(p.b, subject);
      await p.b.flush();
      p.a.publish(subject, examples[subject]);
      await waitFor(() => good.events.length === 1, 3000, 'heartbeat');
      assert.equal(good.events[0]!.load.players, 3);
      stopBad();
      good.stop();
    });
  });

  describe(`${impl.name}: control`, () => {
    let p: Pair;
    let stopServing: () => void;
    const seen: ControlRequest[] = [];
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));

    before(async () => {
      p = await impl.make();
      stopServing = p.b.serveControl('node-b', async (req): Promise<ControlReply> => {
        seen.push(req);
        switch (req.op) {
          case 'stats':
            return { ok: true, data: { sessions: 2 } };
          case 'kick':
            if (req.sessionId === 'slow') await slow;
            if (req.sessionId === 'throw') throw new Error('kick failed: no such session');
            if (req.sessionId === 'bad-reply') return { ok: 'yes' } as unknown as ControlReply;
            return { ok: true };
          default:
            return { ok: false, error: `unsupported ${req.op}` };
        }
      });
      await p.b.flush();
    });
    after(async () => {
      release();
      await p.close();
    });

    it('a request reaches the named node and its reply comes back', async () => {
      assert.deepEqual(await p.a.requestControl('node-b', { op: 'stats' }, 2000), {
        ok: true,
        data: { sessions: 2 },
      });
      assert.deepEqual(await p.a.requestControl('node-b', { op: 'kick', sessionId: 's1' }, 2000), {
        ok: true,
      });
      assert.deepEqual(await p.a.requestControl('node-b', { op: 'relay.start', key: 'live/x' }, 2000), {
        ok: false,
        error: 'unsupported relay.start',
      });
      assert.deepEqual(seen.slice(0, 3), [
        { op: 'stats' },
        { op: 'kick', sessionId: 's1' },
        { op: 'relay.start', key: 'live/x' },
      ]);
    });

    it('an invalid request is refused by the server side with ok:false and counted', async () => {
      const subject = 'sluice.v1.control.node-b';
      const n = seen.length;
      const reply = await p.a.requestControl('node-b', { op: 'reboot' } as unknown as ControlRequest, 2000);
      assert.equal(reply.ok, false);
      assert.match(reply.error ?? '', /invalid control request/);
      assert.equal(seen.length, n, 'handler not called');
      assert.equal(p.counters.get('events_invalid', { subject }), 1);
    });

    it('a failing handler or an invalid reply becomes ok:false', async () => {
      assert.deepEqual(await p.a.requestControl('node-b', { op: 'kick', sessionId: 'throw' }, 2000), {
        ok: false,
        error: 'kick failed: no such session',
      });
      const r = await p.a.requestControl('node-b', { op: 'kick', sessionId: 'bad-reply' }, 2000);
      assert.equal(r.ok, false);
      assert.match(r.error ?? '', /invalid reply/);
    });

    it('an unknown node rejects at once (no responders)', async () => {
      const ms = await rejectsWith(
        p.a.requestControl('node-zz', { op: 'stats' }, 5000),
        ControlErrorCode.NoResponders,
      );
      assert.ok(ms < 1000, `took ${ms} ms`);
    });

    it('a slow node rejects after the timeout', async () => {
      const ms = await rejectsWith(
        p.a.requestControl('node-b', { op: 'kick', sessionId: 'slow' }, 200),
        ControlErrorCode.Timeout,
      );
      assert.ok(ms >= 190 && ms < 1500, `took ${ms} ms`);
    });

    it('a node id that cannot be a subject is refused', async () => {
      await rejectsWith(p.a.requestControl('a.*', { op: 'stats' }, 200), ControlErrorCode.BadNodeId);
      assert.throws(() => p.b.serveControl('a b', () => Promise.resolve({ ok: true })), {
        code: ControlErrorCode.BadNodeId,
      });
    });

    it('after stop, the node has no responders', async () => {
      stopServing();
      await p.b.flush();
      await rejectsWith(p.a.requestControl('node-b', { op: 'stats' }, 2000), ControlErrorCode.NoResponders);
    });
  });

  it(`${impl.name}: after close, connected is false, publish is counted not thrown, requests reject`, async () => {
    const p = await impl.make();
    await p.close();
    assert.equal(p.a.connected, false);
    p.a.publish(Subject.StreamPublished, examples[Subject.StreamPublished]);
    assert.equal(p.b.subscribe(Subject.StreamPublished, () => {})(), undefined);
    await rejectsWith(p.a.requestControl('node-b', { op: 'stats' }, 200), ControlErrorCode.Closed);
    await p.close(); // idempotent
  });
}

describe('NatsBus: NATS outages', () => {
  it('a node survives NATS going away and comes back on its own, with subscriptions', async (t) => {
    const srv = await startNats();
    const ca = new Counters();
    const a = await NatsBus.connect({ url: srv.url, name: 'node-a', counters: ca });
    const b = await NatsBus.connect({ url: srv.url, name: 'node-b' });
    const c = await NatsBus.connect({ url: srv.url, name: 'node-c' });
    try {
      const atB = collect(b, Subject.StreamPublished);
      const atA = collect(a, Subject.StreamUnpublished); // a's own events, to see its offline queue
      b.serveControl('node-b', () => Promise.resolve({ ok: true, data: 'pong' }));
      await b.flush();
      await a.flush();

      const t0 = Date.now();
      await srv.stop();
      const downMs = await waitFor(() => !a.connected && !b.connected, 5000, 'connected to go false');
      t.diagnostic(`disconnect noticed in ${downMs} ms`);

      // Publishing while down neither throws nor blocks; heartbeats are dropped, the rest queued.
      a.publish(Subject.StreamUnpublished, examples[Subject.StreamUnpublished]);
      a.publish(Subject.NodeHeartbeat, examples[Subject.NodeHeartbeat]);
      for (let i = 0; i < 100; i++) a.publish(Subject.SessionStarted, examples[Subject.SessionStarted]);
      assert.equal(ca.get('events_dropped', { subject: Subject.NodeHeartbeat }), 1);
      await rejectsWith(a.requestControl('node-b', { op: 'stats' }, 1000), ControlErrorCode.NotConnected);

      // close() while NATS is down does not hang.
      const tc = Date.now();
      await c.close();
      assert.ok(Date.now() - tc < 3000, 'close while down');

      await new Promise((r) => setTimeout(r, 700)); // a few reconnect attempts fail meanwhile
      await srv.restart();
      const upMs = await waitFor(() => a.connected && b.connected, 10_000, 'both clients to reconnect');
      t.diagnostic(`reconnected ${upMs} ms after restart (outage ${Date.now() - t0} ms)`);

      // The queued event went out on reconnect (a hears itself: its SUB is restored before its queue flushes).
      await waitFor(() => atA.events.length === 1, 3000, 'queued event');
      assert.deepEqual(atA.events, [examples[Subject.StreamUnpublished]]);

      await b.flush();
      a.publish(Subject.StreamPublished, published(42));
      await waitFor(() => atB.events.some((e) => e.sessionId === 'pub-42'), 3000, 'event after restart');
      assert.deepEqual(await a.requestControl('node-b', { op: 'stats' }, 2000), { ok: true, data: 'pong' });
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await srv.stop();
    }
  });

  it('a server that hangs (connections open, no answers) is noticed by pings within seconds', async (t) => {
    const srv = await startNats();
    const a = await NatsBus.connect({ url: srv.url, name: 'node-a' });
    try {
      const got = collect(a, Subject.StreamPublished);
      await a.flush();
      srv.pause();
      const ms = await waitFor(() => !a.connected, 8000, 'a stale connection to be noticed');
      t.diagnostic(`hung server noticed after ${ms} ms`);
      a.publish(Subject.StreamPublished, published(5));
      srv.resume();
      await waitFor(() => a.connected, 10_000, 'reconnect after resume');
      await waitFor(() => got.events.length === 1, 3000, 'the event queued while hung');
    } finally {
      srv.resume();
      await a.close();
      await srv.stop();
    }
  });

  it('a node can start before NATS: it queues, then connects when NATS appears', async () => {
    const port = await freePort();
    const bus = new NatsBus({ url: `nats://127.0.0.1:${port}`, name: 'early' });
    let srv: NatsServer | null = null;
    try {
      assert.equal(bus.connected, false);
      const got = collect(bus, Subject.RelayStarted);
      bus.publish(Subject.RelayStarted, examples[Subject.RelayStarted]);
      await new Promise((r) => setTimeout(r, 300));
      srv = await startNats({ port });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        bus.ready,
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error('no connection within 10 s')), 10_000)),
        ),
      ]);
      clearTimeout(timer);
      assert.equal(bus.connected, true);
      await waitFor(() => got.events.length === 1, 3000, 'the event queued before connecting');
    } finally {
      await bus.close();
      await srv?.stop();
    }
  });

  it('credentials in the URL are used (user:pass@)', async () => {
    const srv = await startNats({ args: ['--user', 'sluice', '--pass', 'p@ss word'] });
    try {
      const url = `nats://sluice:${encodeURIComponent('p@ss word')}@127.0.0.1:${srv.port}`;
      const a = await NatsBus.connect({ url, name: 'auth' });
      const got = collect(a, Subject.StreamPublished);
      await a.flush();
      a.publish(Subject.StreamPublished, published(7));
      await waitFor(() => got.events.length === 1, 3000, 'event with auth');
      await a.close();
    } finally {
      await srv.stop();
    }
  });
});
