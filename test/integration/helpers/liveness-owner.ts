// A stand-in for an origin process, as far as proving it alive goes: it answers control on its
// instance subject over NATS and keeps a Redis connection named after its instance, exactly as
// `sluice origin` does (services/node/cluster-node.ts, cluster-agent.ts). Run as a child
// process so a test can kill -9 it, SIGSTOP it, or cut its links.
// argv: instanceId redisUrl natsUrl. Prints "ready" once both links are up.
import { NatsBus } from '../../../libs/cluster/nats-bus.ts';
import { RedisRegistry } from '../../../libs/cluster/redis-registry.ts';

const [instanceId, redisUrl, natsUrl] = process.argv.slice(2) as [string, string, string];
const registry = new RedisRegistry({ url: redisUrl, clientName: `sluice:origin:${instanceId}` });
const bus = new NatsBus({ url: natsUrl, name: 'liveness-owner' });
bus.serveControl({ instanceId }, () => Promise.resolve({ ok: true, data: { instanceId } }));
await bus.ready;
await registry.lookup('live/ready');
process.stdout.write('ready\n');
process.stdin.on('data', (d: Buffer) => {
  // "drop-redis": close the Redis connection but stay alive on NATS.
  if (d.toString().includes('drop-redis')) void registry.close();
});
