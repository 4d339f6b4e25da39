import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseListen } from '../../libs/config/listen.ts';
import { isRole, roles } from '../../services/cli/roles.ts';
import { killCliProcs, runCli } from './helpers/cli.ts';

// deploy/ must agree with the program. No container engine runs here, so the compose file, its
// Prometheus and Grafana files and the Dockerfile are read as data and checked against Sluice's
// real CLI: roles, environment variables (fed to `sluice <role> --check-config`), listen ports,
// scrape targets, mounted files. scripts/check-runtime.sh covers the image's runtime.

const ROOT = new URL('../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'deploy');
after(killCliProcs);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
  depends_on?: string[];
}
const yaml = (file: string): unknown => parse(readFileSync(file, 'utf8'), { merge: true });
const compose = yaml(join(DEPLOY, 'docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;
const sluiceServices = Object.entries(services).filter(([, s]) => s.image === 'sluice:local');

/** Compose interpolation as used in the file: `${VAR:-default}` with VAR unset. */
const interpolate = (v: string): string => v.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

/** The listen addresses a Sluice service ends up with: its environment over the role's defaults. */
function listens(s: ComposeService): Record<string, string> {
  const env = s.environment ?? {};
  if (s.command![0] === 'scheduler') return { listen: env.SLUICE_SCHEDULER_LISTEN ?? ':8090' };
  return {
    rtmp: env.SLUICE_RTMP_LISTEN ?? ':1935',
    http: env.SLUICE_HTTP_LISTEN ?? ':8080',
    rtsp: env.SLUICE_RTSP_LISTEN ?? ':5544',
    api: env.SLUICE_API_LISTEN ?? ':8083',
  };
}
const metricsPort = (s: ComposeService): number => {
  const l = listens(s);
  return parseListen(l.api ?? l.listen!).port;
};

test('compose runs redis, nats, 2 origins, 2 edges, a scheduler, Prometheus and Grafana', () => {
  assert.deepEqual(Object.keys(services).sort(), [
    'edge-1',
    'edge-2',
    'grafana',
    'nats',
    'origin-1',
    'origin-2',
    'prometheus',
    'redis',
    'scheduler',
  ]);
  const byRole = (role: string): string[] =>
    sluiceServices.filter(([, s]) => s.command?.[0] === role).map(([n]) => n);
  assert.deepEqual(byRole('origin'), ['origin-1', 'origin-2']);
  assert.deepEqual(byRole('edge'), ['edge-1', 'edge-2']);
  assert.deepEqual(byRole('scheduler'), ['scheduler']);
});

test('every Sluice service is built from deploy/Dockerfile, read-only, with a real role and real variables', async (t) => {
  for (const [name, s] of sluiceServices) {
    await t.test(name, async () => {
      assert.ok(existsSync(join(DEPLOY, s.build!.context, s.build!.dockerfile)), 'the Dockerfile exists');
      assert.equal(s.read_only, true, 'read-only root file system');
      const [role, ...args] = s.command!;
      assert.ok(role && isRole(role), `unknown role ${role}`);
      assert.deepEqual(args, [], 'configured by environment only');
      const known = new Set(roles[role].env.map((o) => o.env));
      const env = Object.fromEntries(
        Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
      );
      for (const key of Object.keys(env))
        assert.ok(known.has(key), `${key} is no variable of sluice ${role}`);
      // The program itself judges the configuration, as it would at the container's start.
      const r = await runCli([role, '--check-config'], env);
      assert.equal(r.code, 0, r.stderr);
      if (role !== 'scheduler') {
        assert.equal(env.SLUICE_ADVERTISE_HOST, name, 'other containers reach it by its service name');
        assert.equal(env.SLUICE_NODE_ID, name);
      }
    });
  }
});

test('published ports are the ports Sluice listens on, so the URLs it hands out work from the host', () => {
  const hostPorts = new Set<string>();
  for (const [name, s] of sluiceServices) {
    const listening = Object.values(listens(s)).map((l) => parseListen(l).port);
    for (const mapping of s.ports ?? []) {
      const [hostPort, containerPort] = mapping.split(':');
      assert.equal(hostPort, containerPort, `${name} ${mapping}: host and container port differ`);
      assert.ok(
        listening.includes(Number(containerPort)),
        `${name} publishes ${containerPort}, listens on ${listening.join(', ')}`,
      );
      assert.ok(!hostPorts.has(hostPort!), `host port ${hostPort} published twice`);
      hostPorts.add(hostPort!);
    }
  }
  // Encoders reach every origin, players every edge (RTMP and HTTP) and the scheduler.
  for (const [name, s] of sluiceServices) {
    const role = s.command![0];
    const l = listens(s);
    const want = role === 'origin' ? [l.rtmp] : role === 'edge' ? [l.rtmp, l.http] : [l.listen];
    for (const w of want)
      assert.ok(hostPorts.has(String(parseListen(w!).port)), `${name}: ${w} not published`);
  }
});

test('Prometheus scrapes every Sluice process once, on its API port', () => {
  const mount = services.prometheus!.volumes!.find((v) => v.includes('/etc/prometheus/prometheus.yml'))!;
  const file = join(DEPLOY, mount.split(':')[0]!);
  const prom = yaml(file) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
  const targets = prom.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
  assert.deepEqual(targets.map((x) => x.split(':')[0]).sort(), sluiceServices.map(([n]) => n).sort());
  for (const target of targets) {
    const [host, port] = target.split(':');
    assert.equal(Number(port), metricsPort(services[host!]!), target);
  }
});

test('Grafana is provisioned with Prometheus and the dashboards folder', () => {
  const volumes = services.grafana!.volumes!;
  const source = (target: string): string => {
    const v = volumes.find((x) => x.split(':')[1] === target);
    assert.ok(v, `nothing mounted at ${target}`);
    const dir = join(DEPLOY, v.split(':')[0]!);
    assert.ok(statSync(dir).isDirectory(), dir);
    return dir;
  };
  const provisioning = source('/etc/grafana/provisioning');
  source('/var/lib/grafana/dashboards');
  const ds = yaml(join(provisioning, 'datasources/prometheus.yml')) as {
    datasources: { url: string; uid: string }[];
  };
  assert.equal(ds.datasources[0]!.url, 'http://prometheus:9090');
  assert.equal(ds.datasources[0]!.uid, 'prometheus');
  const dash = yaml(join(provisioning, 'dashboards/sluice.yml')) as {
    providers: { options: { path: string } }[];
  };
  assert.equal(dash.providers[0]!.options.path, '/var/lib/grafana/dashboards');
});

/** The Dockerfile's instructions (continuation lines joined, comments dropped), by stage. */
function dockerStages(): { from: string; lines: string[] }[] {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const stages: { from: string; lines: string[] }[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('FROM ')) stages.push({ from: line, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

test('the Dockerfile: Node 22+, multi-stage, non-root, health check, OCI labels, the real entry points', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const nodeMajor = Number(/^ARG NODE_VERSION=(\d+)$/m.exec(text)?.[1]);
  assert.ok(nodeMajor >= 22, `Node ${nodeMajor}: 20 is past its end of life`);
  const engines = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
  ).engines.node;
  // engines is `^A.x.y || >=B.x.y`: a major is admitted by ^ of the same major or >= of a lower one.
  const admits = (major: number): boolean =>
    engines.split('||').some((alt) => {
      const m = /^\s*(\^|>=)\s*(\d+)\./.exec(alt);
      return m ? (m[1] === '^' ? Number(m[2]) === major : Number(m[2]) <= major) : false;
    });
  assert.ok(admits(nodeMajor), `engines ${engines} admits the image's Node ${nodeMajor}`);
  assert.ok(admits(20) && admits(24), `engines ${engines}: development on Node 20, Node 24 too`);
  const stages = dockerStages();
  assert.ok(stages.length >= 2, 'multi-stage');
  const final = stages.at(-1)!;
  const get = (op: string): string[] =>
    final.lines.filter((l) => l.startsWith(`${op} `)).map((l) => l.slice(op.length + 1));
  assert.match(get('USER')[0] ?? '', /^[1-9]\d*(:\d+)?$/, 'a numeric non-root user');
  assert.deepEqual(JSON.parse(get('ENTRYPOINT')[0]!), ['node', '--max-semi-space-size=2', 'bin/sluice.js']);
  assert.ok(isRole((JSON.parse(get('CMD')[0]!) as string[])[0]!));
  const health = get('HEALTHCHECK')[0] ?? '';
  assert.match(health, /CMD \["node", "bin\/healthcheck\.js"\]/);
  assert.ok(existsSync(join(ROOT, 'bin/healthcheck.js')));
  const labels = get('LABEL').join(' ');
  for (const l of ['title', 'description', 'version', 'revision', 'source', 'licenses']) {
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${l}=`), l);
  }
  assert.ok(
    final.lines.some((l) => l === 'COPY --from=build /app /app'),
    'only the staged bundle',
  );
  // The build stage: what it copies exists and is not excluded from the context.
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  for (const copy of stages[0]!.lines.filter((l) => l.startsWith('COPY '))) {
    const sources = copy.slice(5).split(/\s+/).slice(0, -1);
    for (const src of sources) {
      assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: missing`);
      assert.ok(!ignored.includes(src.split('/')[0]!), `COPY ${src}: excluded by .dockerignore`);
    }
  }
  assert.ok(stages[0]!.lines.includes('RUN bash scripts/stage-bundle.sh /app'));
});

test('the package ships the build, not the tests', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    private: boolean;
    files: string[];
    license: string;
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.private, true);
  assert.ok(!pkg.files.some((f) => f.startsWith('test')));
  assert.ok(pkg.files.includes('dist/'));
  assert.equal(pkg.license, 'MIT');
  assert.match(
    readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    /^MIT License\n\nCopyright \(c\) \d{4} The Sluice authors\n/,
  );
  for (const devOnly of ['tsx', 'esbuild', 'typescript', 'pino-pretty']) {
    assert.ok(!(devOnly in pkg.dependencies), `${devOnly} is a production dependency`);
  }
});
