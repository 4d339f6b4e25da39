import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { connect, type NatsConnection } from 'nats';
import { newInstanceId } from '../../libs/cluster/instance-id.ts';
import { NatsBus } from '../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../libs/cluster/redis-registry.ts';
import type { StreamOwner } from '../../libs/cluster/types.ts';
import { checkOwnerDead } from '../../services/origin/owner-liveness.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

// The proof that lets an origin take a stream over before its lease ends (issue #6 "Fast,
// safe failover"), against a real redis-server and nats-server and an owner that is a real
// process: killed it is dead, paused (hung) or merely reconnecting it is not, and a wildcard
// NATS listener (a monitoring tap) neither hides a death nor fakes one.

const HELPER = new URL('./helpers/liveness-owner.ts', import.meta.url).pathname;

let redis: TestRedis;
let nats: NatsServer;
let registry: RedisRegistry;
let bus: NatsBus;
const children = new Set<ChildProcess>();

before(async () => {
  [redis, nats] = await Promise.all([startRedis(), startNats()]);
  registry = new RedisRegistry({ url: redis.url });
  bus = new NatsBus({ url: nats.url, name: 'checker' });
  await bus.ready;
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await bus?.close();
  await registry?.close();
  await Promise.all([redis?.stop(), nats?.stop()]);
});

interface Owner {
  proc: ChildProcess;
  instanceId: string;
  claim: StreamOwner;
}

/** Starts an owner process (through proxies if given) and waits until both its links are up. */
async function startOwner(links: { redisUrl?: string; natsUrl?: string } = {}): Promise<Owner> {
  const instanceId = newInstanceId();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', HELPER, instanceId, links.redisUrl ?? redis.url, links.natsUrl ?? nats.url],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => l === 'ready' && resolve());
    proc.once('exit', (code) => reject(new Error(`owner exited ${code}`)));
  });
  const claim: StreamOwner = {
    key: 'live/x',
    nodeId: 'origin-x',
    instanceId,
    epoch: 1,
    since: 0,
    ttlMs: 10_000,
    relayAddr: '',
    media: {},
  };
  return { proc, instanceId, claim };
}

const killed = (p: ChildProcess): Promise<void> =>
  new Promise((r) => {
    p.once('exit', () => r());
    p.kill('SIGKILL');
  });

test('a live owner is alive; a killed one is dead, with "no responders" on NATS', async (t) => {
  const owner = await startOwner();
  const live = await checkOwnerDead(owner.claim, bus, registry);
  assert.deepEqual(live, { dead: false, why: 'owner still connected to the registry' });
  await killed(owner.proc);
  const t0 = performance.now();
  const dead = await checkOwnerDead(owner.claim, bus, registry);
  t.diagnostic(`proven dead in ${Math.round(performance.now() - t0)} ms: ${JSON.stringify(dead)}`);
  assert.equal(dead.dead, true);
  assert.match(dead.dead ? dead.evidence : '', /no NATS responder/);
});

test('a hung owner (SIGSTOP) is never dead: its sockets stay open', async () => {
  const owner = await startOwner();
  owner.proc.kill('SIGSTOP');
  try {
    const r = await checkOwnerDead(owner.claim, bus, registry);
    assert.deepEqual(r, { dead: false, why: 'owner still connected to the registry' });
  } finally {
    owner.proc.kill('SIGCONT');
    await killed(owner.proc);
  }
});

test('a wildcard listener on NATS (a tap) turns "no responders" into a timeout: a killed owner is still proven dead, a live one still answers', async () => {
  const tap: NatsConnection = await connect({ servers: nats.url, name: 'tap' });
  tap.subscribe('sluice.v1.>', { callback: () => undefined });
  await tap.flush();
  try {
    const owner = await startOwner();
    // Alive but off Redis: the ping is answered (the tap never answers, the owner does).
    owner.proc.stdin!.write('drop-redis\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await checkOwnerDead(owner.claim, bus, registry), {
      dead: false,
      why: 'owner answered a ping',
    });
    await killed(owner.proc);
    const dead = await checkOwnerDead(owner.claim, bus, registry);
    assert.equal(dead.dead, true);
    assert.match(dead.dead ? dead.evidence : '', /no answer to a ping/);
  } finally {
    await tap.close();
  }
});

test('an owner whose links were just reset (a middlebox restart) reconnects before the second look: not dead', async (t) => {
  const [redisProxy, natsProxy]: [TcpProxy, TcpProxy] = await Promise.all([
    startTcpProxy({ port: redis.port }),
    startTcpProxy({ port: nats.port }),
  ]);
  try {
    const owner = await startOwner({
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      natsUrl: `nats://127.0.0.1:${natsProxy.port}`,
    });
    // Its Redis link comes back on its own; its NATS link stays cut (no ping can be answered).
    natsProxy.blackhole();
    redisProxy.reset();
    natsProxy.reset();
    // Both servers saw the connections go: at this instant, both witnesses say "gone".
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await registry.instanceConnected(owner.instanceId), false);
    const r = await checkOwnerDead(owner.claim, bus, registry);
    t.diagnostic(JSON.stringify(r));
    assert.deepEqual(r, {
      dead: false,
      why: 'owner still connected to the registry (on the second look)',
    });
    await killed(owner.proc);
  } finally {
    await Promise.all([redisProxy.close(), natsProxy.close()]);
  }
});

test('nothing is proven without NATS here, nor when the claim names no instance', async () => {
  const owner = await startOwner();
  await killed(owner.proc);
  assert.deepEqual(await checkOwnerDead({ ...owner.claim, instanceId: '' }, bus, registry), {
    dead: false,
    why: 'claim names no instance',
  });
  const offline = { connected: false, requestControl: bus.requestControl.bind(bus) };
  assert.deepEqual(await checkOwnerDead(owner.claim, offline, registry), {
    dead: false,
    why: 'NATS not connected here',
  });
});
