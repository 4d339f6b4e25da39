import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLUICE_BIN } from './helpers/build.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { find, renderChart, type K8sObject } from './helpers/helm.ts';
import { makeTestFlv, publish, type Child } from './helpers/media.ts';
import { startNats, type NatsServer } from './helpers/nats.ts';
import { freePort } from './helpers/net.ts';
import { podRun, type PodRun } from './helpers/pod-spec.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';
import { waitFor } from './helpers/sluice.ts';

// The chart and the program agree: each role runs exactly as the rendered manifests describe it
// (command, args, environment with the downward API and Secrets resolved, the ConfigMap mounted
// as a file), with a local redis-server and nats-server standing in for the bundled Services.
// Only addresses change: Service and pod DNS names become 127.0.0.1, Service ports the local
// servers' ports, and each pod's listen ports free loopback ports. Then ffmpeg publishes to the
// origin and a viewer plays through the edge, also by way of the scheduler's redirect.

const ROOT = new URL('../../', import.meta.url).pathname;
const NAMESPACE = 'media';
const APP_DIR = '/app'; // the image's WORKDIR, where bin/sluice.js lives

let redis: TestRedis | undefined;
let nats: NatsServer | undefined;
const procs: ChildProcess[] = [];
const children: Child[] = [];

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await redis?.stop();
  await nats?.stop();
});

interface RunningPod {
  name: string;
  proc: ChildProcess;
  /** containerPort -> local port. */
  ports: Map<number, number>;
  logs: string[];
  exited: Promise<number | null>;
}

/** Every DNS form of a Service (name, name.ns, name.ns.svc, name.ns.svc.<domain>), longest first. */
function serviceHosts(objs: K8sObject[]): string[] {
  const out: string[] = [];
  for (const s of objs.filter((o) => o.kind === 'Service')) {
    const n = s.metadata.name;
    out.push(`${n}.${NAMESPACE}.svc.cluster.local`, `${n}.${NAMESPACE}.svc`, `${n}.${NAMESPACE}`, n);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Service and pod DNS names (`<pod>.<headless service>...`) to 127.0.0.1, their ports through
 * `servicePorts` (Service port -> local port, for the stand-in servers).
 */
function rewriteAddresses(value: string, hosts: string[], servicePorts: Map<number, number>): string {
  const alt = hosts.map((h) => h.replace(/[.]/g, '\\.')).join('|');
  const re = new RegExp(`(?:[a-z0-9-]+\\.)?(?:${alt})(?::(\\d+))?(?![a-z0-9.-])`, 'g');
  return value.replace(re, (_m, port: string | undefined) => {
    if (port === undefined) return '127.0.0.1';
    const local = servicePorts.get(Number(port));
    if (local === undefined) throw new Error(`no local stand-in for port ${port} in ${value}`);
    return `127.0.0.1:${local}`;
  });
}

/** The pod's listen addresses (`:port` in its config file) to free loopback ports. */
async function rewriteListens(pod: PodRun): Promise<Map<number, number>> {
  const ports = new Map<number, number>();
  const file = join(pod.mounts['/etc/sluice'] ?? '', 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const walk = async (node: Record<string, unknown>): Promise<void> => {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'listen' && typeof v === 'string') {
        const m = /^:(\d+)$/.exec(v);
        assert.ok(m, `listen ${v} in the rendered config`);
        const local = await freePort();
        ports.set(Number(m[1]), local);
        node[k] = `127.0.0.1:${local}`;
      } else if (v && typeof v === 'object') await walk(v as Record<string, unknown>);
    }
  };
  await walk(config);
  writeFileSync(file, JSON.stringify(config));
  return ports;
}

/** Starts the workload's first pod as rendered; the image's /app is this checkout. */
async function startPod(
  objs: K8sObject[],
  workload: K8sObject,
  servicePorts: Map<number, number>,
): Promise<RunningPod> {
  const pod = podRun(objs, workload, { podIp: '127.0.0.1', namespace: NAMESPACE });
  const hosts = serviceHosts(objs);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(pod.env)) env[k] = rewriteAddresses(v, hosts, servicePorts);
  const ports = await rewriteListens(pod);
  const [cmd, ...rest] = pod.argv;
  assert.equal(cmd, 'node');
  // Node's own flags come before the program, and the test runs it with them.
  const nodeFlags = rest.slice(
    0,
    Math.max(
      0,
      rest.findIndex((a) => !a.startsWith('--')),
    ),
  );
  const [script, ...args] = rest.slice(nodeFlags.length);
  assert.ok(script?.startsWith(`${APP_DIR}/`), `the program is in the image's ${APP_DIR}: ${script}`);
  assert.equal(join(ROOT, (script ?? '').slice(APP_DIR.length)), SLUICE_BIN);
  const proc = spawn(process.execPath, [...nodeFlags, SLUICE_BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  const logs: string[] = [];
  const keep = (d: Buffer): void => {
    logs.push(d.toString());
    if (logs.length > 2000) logs.splice(0, 1000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { name: pod.podName, proc, ports, logs, exited };
}

interface Probe {
  httpGet: { path: string; port: string | number };
}

/** A probe's URL on the local pod: the named container port resolved through the rendered spec. */
function probeUrl(workload: K8sObject, pod: RunningPod, probe: 'livenessProbe' | 'readinessProbe'): string {
  const c = (workload.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec
    .containers[0] as { ports: { name: string; containerPort: number }[] } & Record<string, Probe>;
  const p = c[probe];
  assert.ok(p, `${workload.metadata.name}: ${probe}`);
  const named = p.httpGet.port;
  const containerPort =
    typeof named === 'number' ? named : c.ports.find((x) => x.name === named)?.containerPort;
  const local = containerPort === undefined ? undefined : pod.ports.get(containerPort);
  assert.ok(local, `${workload.metadata.name}: ${probe} port ${named} is a listen port of the config`);
  return `http://127.0.0.1:${local}${p.httpGet.path}`;
}

async function status(url: string): Promise<number> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.body?.cancel();
    return r.status;
  } catch {
    return 0;
  }
}

test('the rendered origin, edge and scheduler run as described and serve a stream end to end', async () => {
  const [objs, media, r, n] = await Promise.all([
    renderChart({}, { namespace: NAMESPACE }),
    makeTestFlv({ durationS: 4, width: 320, height: 240, fps: 25, gop: 25 }),
    startRedis(),
    startNats(),
  ]);
  redis = r;
  nats = n;
  // The bundled Services' ports, served here by the local stand-ins.
  const redisSvc = find(objs, 'Service', 'demo-sluice-redis').spec as { ports: { port: number }[] };
  const natsSvc = find(objs, 'Service', 'demo-sluice-nats').spec as { ports: { port: number }[] };
  const servicePorts = new Map<number, number>([
    [redisSvc.ports[0]?.port ?? -1, r.port],
    [natsSvc.ports[0]?.port ?? -1, n.port],
  ]);

  const workloads = {
    origin: find(objs, 'StatefulSet', 'demo-sluice-origin'),
    edge: find(objs, 'Deployment', 'demo-sluice-edge'),
    scheduler: find(objs, 'Deployment', 'demo-sluice-scheduler'),
  };
  const origin = await startPod(objs, workloads.origin, servicePorts);
  const edge = await startPod(objs, workloads.edge, servicePorts);
  const scheduler = await startPod(objs, workloads.scheduler, servicePorts);
  const pods = [
    [workloads.origin, origin],
    [workloads.edge, edge],
    [workloads.scheduler, scheduler],
  ] as const;
  const dump = (): string => pods.map(([, p]) => `--- ${p.name}\n${p.logs.join('').slice(-3000)}`).join('\n');

  // Liveness as the kubelet would probe it; readiness too where the role serves it.
  for (const [w, p] of pods) {
    const live = probeUrl(w, p, 'livenessProbe');
    await waitFor(async () => (await status(live)) === 200, 20_000, `${p.name} ${live}`).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump()}`);
    });
  }
  for (const [w, p] of pods) {
    const ready = probeUrl(w, p, 'readinessProbe');
    await waitFor(async () => (await status(ready)) === 200, 20_000, `${p.name} ${ready}`);
  }

  // Publish to the origin's RTMP port; play HTTP-FLV through the edge, which pulls from the origin
  // at the address the origin advertised (its pod DNS name, here 127.0.0.1).
  const originRtmp = origin.ports.get(1935);
  const edgeHttp = edge.ports.get(8080);
  const schedulerHttp = scheduler.ports.get(8090);
  assert.ok(originRtmp && edgeHttp && schedulerHttp);
  const pub = publish(media, `rtmp://127.0.0.1:${originRtmp}/live/helm`, { loop: true });
  children.push(pub);
  const viewer = httpFlv(`http://127.0.0.1:${edgeHttp}/live/helm.flv`);
  await waitFor(
    () => viewer.tags.filter((x) => x.type === 9).length >= 50,
    20_000,
    'video through the edge',
  ).catch((e: Error) => {
    throw new Error(`${e.message}; status ${viewer.status}, ${viewer.bytes} bytes\n${dump()}`);
  });
  assert.equal(viewer.status, 200);
  assert.ok(
    viewer.tags.some((x) => x.type === 8),
    'audio through the edge',
  );
  viewer.stop();

  // The scheduler knows the edge by the address the edge advertised (its pod IP) and sends a
  // player there.
  const play = `http://127.0.0.1:${schedulerHttp}/play/live/helm.flv`;
  const location = await waitFor(
    async () => {
      const res = await fetch(play, { redirect: 'manual' });
      await res.body?.cancel();
      return res.status === 302 ? res.headers.get('location') : null;
    },
    15_000,
    'a 302 from the scheduler',
  );
  assert.equal(location, `http://127.0.0.1:${edgeHttp}/live/helm.flv`);
  const redirected = httpFlv(location);
  await waitFor(
    () => redirected.tags.filter((x) => x.type === 9).length >= 10,
    15_000,
    'video after the redirect',
  );
  redirected.stop();
  await pub.kill();

  // SIGTERM, as the kubelet sends it after preStop: every role exits 0 within its grace period.
  for (const [w, p] of pods) {
    const grace = (w.spec as { template: { spec: { terminationGracePeriodSeconds: number } } }).template.spec
      .terminationGracePeriodSeconds;
    p.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), grace * 1000)));
    const code = await Promise.race([p.exited, timeout]);
    clearTimeout(timer);
    assert.equal(code, 0, `${p.name} exit after SIGTERM\n${dump()}`);
  }
});
