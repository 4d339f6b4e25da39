import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SLUICE_BIN } from './helpers/build.ts';
import { CHART_DIR, find, helm, renderChart, type K8sObject } from './helpers/helm.ts';
import { validateObject } from './helpers/k8s-validate.ts';
import { makeOperatorSetup } from './helpers/nats-jwt.ts';
import { podRun, type PodContext } from './helpers/pod-spec.ts';
import { VALUES_SCHEMA_PATH, valuesSchemaText } from '../../scripts/helm-values-schema.ts';

// The Helm chart: lint, rendering of the defaults and of the variants operators use, every
// manifest against the Kubernetes schemas, and every rendered Sluice config, with its pod's
// environment, through Sluice's own `--check-config`.

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

const EXTERNAL_SECRETS: PodContext['externalSecrets'] = {
  'media-creds/redis': 'redis://:s3cret@redis.example.internal:6380/2',
  'media-creds/nats': 'nats://nats-a.example.internal:4222,nats://nats-b.example.internal:4222',
  'media-relay/secret': 'an-operator-chosen-relay-secret',
  'media-api/token': 'an-operator-chosen-api-token',
  // A real creds file (fresh keys): Sluice's check signs with its seed.
  'nats-creds/nats.creds': readFileSync(
    (await makeOperatorSetup([{ name: 'sluice', pub: ['sluice.>'], sub: ['sluice.>'] }])).creds.sluice ?? '',
    'utf8',
  ),
};
const ctx: PodContext = { podIp: '10.1.2.3', namespace: 'media', externalSecrets: EXTERNAL_SECRETS };

/** The variants the chart is rendered with; each is validated and config-checked. */
const VARIANTS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'external Redis and NATS URLs': {
    'redis.url': 'redis-sentinel://sentinel-0.example.internal:26379,sentinel-1.example.internal/mymaster/0',
    'nats.url': 'tls://nats.example.internal:4222',
  },
  'existing Secrets for Redis, NATS, relay secret, API token and NATS creds': {
    'redis.existingSecret': 'media-creds',
    'redis.existingSecretKey': 'redis',
    'nats.existingSecret': 'media-creds',
    'nats.existingSecretKey': 'nats',
    'nats.credsSecret': 'nats-creds',
    'relaySecret.existingSecret': 'media-relay',
    'relaySecret.key': 'secret',
    'apiToken.existingSecret': 'media-api',
    'apiToken.key': 'token',
  },
  'HPA on a custom metric (prometheus-adapter)': {
    'edge.autoscaling.custom': { enabled: true, metric: 'sluice_sent_bytes', targetAverageValue: '50M' },
  },
  'KEDA ScaledObject': {
    'edge.autoscaling.custom': { enabled: true, provider: 'keda', targetAverageValue: '300' },
  },
  'ingress on, ServiceMonitor on, autoscaling off': {
    'scheduler.ingress': {
      enabled: true,
      className: 'nginx',
      host: 'live.example.com',
      tls: [{ secretName: 'live-tls', hosts: ['live.example.com'] }],
    },
    'metrics.serviceMonitor.enabled': true,
    'edge.autoscaling.enabled': false,
    'edge.replicas': 3,
  },
  'role config overrides and other ports': {
    ports: { rtmp: 11935, http: 18080, api: 18083, scheduler: 18090 },
    'origin.config': { ownership: { leaseMs: 20000, refreshMs: 5000 }, log: { level: 'debug' } },
    'edge.config': { relay: { idleStopMs: 3000, maxRelays: 50 }, viewer: { writeCoalesceMs: 0 } },
    'scheduler.config': { routing: { maxLoadRatio: 0.8 }, view: { maxNodes: 500 } },
    'edge.publicHost': 'edge.live.example.com',
    'edge.drain': { preStopSeconds: 0, timeoutSeconds: 120 },
    'origin.drain.timeoutSeconds': 0,
  },
};

const SLUICE_WORKLOADS = [
  'StatefulSet/demo-sluice-origin',
  'Deployment/demo-sluice-edge',
  'Deployment/demo-sluice-scheduler',
];
const ROLE_OF: Record<string, string> = {
  'demo-sluice-origin': 'origin',
  'demo-sluice-edge': 'edge',
  'demo-sluice-scheduler': 'scheduler',
};

function workloads(objs: K8sObject[]): K8sObject[] {
  return SLUICE_WORKLOADS.map((w) => {
    const [kind, name] = w.split('/') as [string, string];
    return find(objs, kind, name);
  });
}

/** `sluice <role> --config <rendered> --check-config` with the pod's environment only. */
async function checkConfig(objs: K8sObject[], w: K8sObject): Promise<{ code: number; out: string }> {
  const pod = podRun(objs, w, ctx);
  const [cmd, flag, script, ...args] = pod.argv;
  assert.equal(cmd, 'node', `${w.metadata.name}: command`);
  assert.equal(flag, '--max-semi-space-size=2', `${w.metadata.name}: a small young generation (Dockerfile)`);
  assert.equal(script, '/app/bin/sluice.js', `${w.metadata.name}: the image's program`);
  assert.equal(args[0], ROLE_OF[w.metadata.name], `${w.metadata.name}: role argument`);
  try {
    const r = await run(process.execPath, [SLUICE_BIN, ...args, '--check-config'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...pod.env },
      timeout: 30_000,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

test('helm lint --strict passes', async () => {
  const { stdout } = await helm(['lint', '--strict', CHART_DIR]);
  assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('values.schema.json is generated from the role config schemas and is current', () => {
  assert.equal(
    readFileSync(join(ROOT, VALUES_SCHEMA_PATH), 'utf8'),
    valuesSchemaText(),
    'stale: regenerate with `node --import tsx scripts/helm-values-schema.ts`',
  );
});

for (const [name, values] of Object.entries(VARIANTS)) {
  test(`helm template (${name}): every manifest is valid Kubernetes and every Sluice config passes --check-config`, async () => {
    const objs = await renderChart(values);
    assert.ok(objs.length >= 10, `rendered ${objs.length} objects`);
    for (const o of objs) await validateObject(o);
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(new Set(names).size, names.length, `duplicate objects: ${names.join(', ')}`);
    const ws = workloads(objs);
    const results = await Promise.all(ws.map((w) => checkConfig(objs, w)));
    ws.forEach((w, i) => {
      const r = results[i];
      assert.equal(r?.code, 0, `${w.metadata.name} --check-config:\n${r?.out}`);
      assert.match(r.out, /OK/);
    });
  });
}

test('a config the schema accepts but Sluice refuses fails the config check (the check is real)', async () => {
  // refreshMs above half of leaseMs: no JSON Schema can say so; Sluice's own check does.
  const objs = await renderChart({ 'origin.config': { ownership: { leaseMs: 4000, refreshMs: 3000 } } });
  const r = await checkConfig(objs, find(objs, 'StatefulSet', 'demo-sluice-origin'));
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /ownership\.refreshMs/);
});

test('values the role schemas refuse stop helm before anything renders', async () => {
  for (const [key, value, message] of [
    ['edge.config', { relay: { idleStopMs: -1 } }, /idleStopMs/],
    ['edge.config', { relya: {} }, /relya/],
    ['scheduler.config', { routing: { maxLoadRatio: 'high' } }, /maxLoadRatio/],
    ['edge.autoscaling.custom', { provider: 'magic' }, /provider/],
  ] as const) {
    await assert.rejects(
      renderChart({ [key]: value }),
      (e: Error) => message.test(e.message),
      `${key}=${JSON.stringify(value)}`,
    );
  }
});

test('defaults: bundled Redis and NATS, origins advertise their pod DNS names, secure pods, probes', async () => {
  const objs = await renderChart();
  find(objs, 'StatefulSet', 'demo-sluice-redis');
  find(objs, 'StatefulSet', 'demo-sluice-nats');
  const origin = find(objs, 'StatefulSet', 'demo-sluice-origin');
  const headless = find(objs, 'Service', 'demo-sluice-origin-headless');
  assert.equal((origin.spec as { serviceName: string }).serviceName, headless.metadata.name);
  assert.equal((headless.spec as { clusterIP: string }).clusterIP, 'None');
  const o = podRun(objs, origin, ctx);
  // The name another pod resolves for pod 0 of the StatefulSet under its headless Service.
  assert.equal(
    o.env.SLUICE_ADVERTISE_HOST,
    'demo-sluice-origin-0.demo-sluice-origin-headless.media.svc.cluster.local',
  );
  assert.equal(o.env.SLUICE_NODE_ID, 'demo-sluice-origin-0');
  assert.equal(o.env.SLUICE_REDIS_URL, 'redis://demo-sluice-redis.media.svc.cluster.local:6379/0');
  assert.equal(o.env.SLUICE_NATS_URL, 'nats://demo-sluice-nats.media.svc.cluster.local:4222');
  const e = podRun(objs, find(objs, 'Deployment', 'demo-sluice-edge'), ctx);
  assert.equal(e.env.SLUICE_ADVERTISE_HOST, ctx.podIp);
  assert.equal(
    e.env.SLUICE_RELAY_SECRET,
    o.env.SLUICE_RELAY_SECRET,
    'origins and edges share the relay secret',
  );
  assert.ok((o.env.SLUICE_RELAY_SECRET ?? '').length >= 32, 'a generated relay secret');
  const sch = podRun(objs, find(objs, 'Deployment', 'demo-sluice-scheduler'), ctx);
  assert.ok((o.env.SLUICE_API_TOKEN ?? '').length >= 32, 'a generated API token');
  assert.equal(e.env.SLUICE_API_TOKEN, o.env.SLUICE_API_TOKEN, 'one API token for the cluster');
  assert.equal(sch.env.SLUICE_API_TOKEN, o.env.SLUICE_API_TOKEN, 'the scheduler has it too');
  assert.notEqual(o.env.SLUICE_API_TOKEN, o.env.SLUICE_RELAY_SECRET);

  for (const w of [
    ...workloads(objs),
    find(objs, 'StatefulSet', 'demo-sluice-redis'),
    find(objs, 'StatefulSet', 'demo-sluice-nats'),
  ]) {
    const spec = (w.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      securityContext: { runAsNonRoot: boolean };
      containers: {
        securityContext: {
          readOnlyRootFilesystem: boolean;
          allowPrivilegeEscalation: boolean;
          capabilities: { drop: string[] };
        };
        readinessProbe?: { httpGet?: { path: string } };
        livenessProbe?: { httpGet?: { path: string } };
        resources?: { requests?: object };
      }[];
    };
    assert.equal(spec.securityContext.runAsNonRoot, true, w.metadata.name);
    for (const c of spec.containers) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, w.metadata.name);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, w.metadata.name);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], w.metadata.name);
      assert.ok(c.resources?.requests, `${w.metadata.name}: resource requests`);
    }
  }
  for (const w of workloads(objs)) {
    const c = (
      w.spec as {
        template: {
          spec: {
            containers: {
              readinessProbe: { httpGet: { path: string } };
              livenessProbe: { httpGet: { path: string } };
            }[];
          };
        };
      }
    ).template.spec.containers[0];
    assert.equal(c?.readinessProbe.httpGet.path, '/readyz', w.metadata.name);
    assert.equal(c?.livenessProbe.httpGet.path, '/healthz', w.metadata.name);
  }
  // Edges: HPA on CPU, grace covering preStop and the drain, a disruption budget.
  const hpa = find(objs, 'HorizontalPodAutoscaler', 'demo-sluice-edge');
  assert.deepEqual((hpa.spec as { metrics: unknown[] }).metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
  ]);
  const edge = find(objs, 'Deployment', 'demo-sluice-edge');
  assert.equal((edge.spec as { replicas?: number }).replicas, undefined, 'the HPA owns the replica count');
  const pod = (
    edge.spec as {
      template: { spec: { terminationGracePeriodSeconds: number; containers: { lifecycle: unknown }[] } };
    }
  ).template.spec;
  assert.equal(pod.terminationGracePeriodSeconds, 5 + 30 + 15);
  const originPod = (origin.spec as { template: { spec: { terminationGracePeriodSeconds: number } } })
    .template.spec;
  assert.equal(originPod.terminationGracePeriodSeconds, 30 + 15);
  for (const role of ['origin', 'edge']) {
    const cm = find(objs, 'ConfigMap', `demo-sluice-${role}`).data as { 'config.json': string };
    const config = JSON.parse(cm['config.json']) as { drain: { timeoutMs: number } };
    assert.equal(config.drain.timeoutMs, 30_000, `${role}: Sluice's drain matches the grace period`);
  }
  assert.deepEqual(pod.containers[0]?.lifecycle, { preStop: { exec: { command: ['sleep', '5'] } } });
  for (const n of ['demo-sluice-origin', 'demo-sluice-edge', 'demo-sluice-scheduler'])
    find(objs, 'PodDisruptionBudget', n);
  assert.equal(
    objs.filter((x) => x.kind === 'Ingress' || x.kind === 'ServiceMonitor' || x.kind === 'ScaledObject')
      .length,
    0,
  );
});

test('variants: external services drop the bundled ones, custom metrics, KEDA, ingress', async () => {
  const ext = await renderChart(VARIANTS['external Redis and NATS URLs']);
  assert.ok(
    !ext.some((o) => /-(redis|nats)$/.test(o.metadata.name)),
    'no bundled Redis/NATS with external URLs',
  );
  const e = podRun(ext, find(ext, 'Deployment', 'demo-sluice-edge'), ctx);
  assert.equal(e.env.SLUICE_NATS_URL, 'tls://nats.example.internal:4222');

  const sec = await renderChart(
    VARIANTS['existing Secrets for Redis, NATS, relay secret, API token and NATS creds'],
  );
  assert.ok(!sec.some((o) => o.kind === 'Secret'), 'no Secret rendered when existing ones are named');
  const s = podRun(sec, find(sec, 'StatefulSet', 'demo-sluice-origin'), ctx);
  assert.equal(s.env.SLUICE_REDIS_URL, EXTERNAL_SECRETS?.['media-creds/redis']);
  assert.equal(s.env.SLUICE_RELAY_SECRET, EXTERNAL_SECRETS?.['media-relay/secret']);
  assert.equal(s.env.SLUICE_API_TOKEN, EXTERNAL_SECRETS?.['media-api/token']);
  assert.equal(s.env.SLUICE_NATS_CREDS, `${s.mounts['/etc/sluice-nats']}/nats.creds`);

  const adapter = await renderChart(VARIANTS['HPA on a custom metric (prometheus-adapter)']);
  const metrics = (
    find(adapter, 'HorizontalPodAutoscaler', 'demo-sluice-edge').spec as {
      metrics: { type: string; pods?: unknown }[];
    }
  ).metrics;
  assert.deepEqual(metrics[1], {
    type: 'Pods',
    pods: { metric: { name: 'sluice_sent_bytes' }, target: { type: 'AverageValue', averageValue: '50M' } },
  });

  const keda = await renderChart(VARIANTS['KEDA ScaledObject']);
  assert.ok(!keda.some((o) => o.kind === 'HorizontalPodAutoscaler'), 'KEDA makes its own HPA');
  const so = find(keda, 'ScaledObject', 'demo-sluice-edge').spec as {
    triggers: { type: string; metadata: Record<string, string> }[];
  };
  assert.equal(
    so.triggers[1]?.metadata.query,
    'sum(sluice_viewers{namespace="media",pod=~"demo-sluice-edge-.*"})',
  );
  assert.equal(so.triggers[1]?.metadata.threshold, '300');

  const ing = await renderChart(VARIANTS['ingress on, ServiceMonitor on, autoscaling off']);
  const rules = (
    find(ing, 'Ingress', 'demo-sluice-scheduler').spec as {
      rules: { host: string; http: { paths: { path: string }[] } }[];
    }
  ).rules;
  assert.equal(rules[0]?.host, 'live.example.com');
  assert.deepEqual(
    rules[0]?.http.paths.map((p) => p.path),
    ['/play', '/api/v1'],
  );
  assert.equal((find(ing, 'Deployment', 'demo-sluice-edge').spec as { replicas: number }).replicas, 3);
  assert.ok(!ing.some((o) => o.kind === 'HorizontalPodAutoscaler'));
  find(ing, 'ServiceMonitor', 'demo-sluice');
});

test('the Kubernetes schema check refuses a broken manifest and an unknown kind', async () => {
  const objs = await renderChart();
  const edge = structuredClone(find(objs, 'Deployment', 'demo-sluice-edge'));
  const c = (edge.spec as { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } })
    .template.spec.containers[0];
  if (c?.ports[0]) c.ports[0].containerPort = 'rtmp';
  await assert.rejects(validateObject(edge), /containerPort/);
  await assert.rejects(
    validateObject({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }),
    /Deploymnet/,
  );
});
