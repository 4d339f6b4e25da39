import { writeFileSync } from 'node:fs';
import { roleSchemas } from './default-configs.ts';

// helm/sluice/values.schema.json: the chart's own values, with each role's `config` section taken
// from that role's config JSON Schema (the one conf/<role>.schema.json publishes), so `helm
// install` refuses a misspelt or mistyped Sluice setting before anything starts. Generated; a test
// fails when it is stale.
//   node --import tsx scripts/helm-values-schema.ts

export const VALUES_SCHEMA_PATH = 'helm/sluice/values.schema.json';

/** Lookahead or lookbehind, which RE2 lacks. */
const LOOKAROUND = /\(\?<?[=!]/;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** A role's config schema as a values section: refs inlined, no schema-level ids. */
export function configSection(role: string): Obj {
  const schema = JSON.parse(JSON.stringify(roleSchemas[role])) as Obj;
  const defs = (schema.definitions ?? {}) as Obj;
  const inline = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(inline);
    if (node === null || typeof node !== 'object') return node;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const name = ref.replace('#/definitions/', '');
      const target = defs[name];
      if (target === undefined) throw new Error(`${role}: unknown $ref ${ref}`);
      return inline(target);
    }
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) out[k] = inline(v);
    // Helm checks patterns with Go's RE2, which has no lookaround: such a key is left to Sluice's
    // own check at startup (and to the chart tests' --check-config).
    if (typeof out.pattern === 'string' && LOOKAROUND.test(out.pattern)) delete out.pattern;
    return out;
  };
  const props = { ...(schema.properties as Obj) };
  delete props.$schema;
  // The chart writes drain.timeoutMs from <role>.drain.timeoutSeconds, with the grace period.
  delete props.drain;
  return {
    type: 'object',
    description: `Overrides of the ${role} config (conf/${role}.schema.json), rendered into its ConfigMap. Node id, Redis and NATS URLs, advertised hosts and the relay secret are set by the chart through the environment, which wins over these.`,
    additionalProperties: false,
    properties: inline(props) as Obj,
  };
}

const str: Obj = { type: 'string' };
const bool: Obj = { type: 'boolean' };
const port: Obj = { type: 'integer', minimum: 1, maximum: 65535 };
const count: Obj = { type: 'integer', minimum: 0 };
const anyObj: Obj = { type: 'object' };
const strMap: Obj = { type: 'object', additionalProperties: { type: 'string' } };
const list: Obj = { type: 'array' };
const intOrPercent: Obj = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+%$' },
  ],
};
const image: Obj = {
  type: 'object',
  additionalProperties: false,
  properties: { repository: str, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } },
};
const serviceType: Obj = { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] };
const pdb = (extra: Obj): Obj => ({
  type: 'object',
  additionalProperties: false,
  properties: { enabled: bool, ...extra },
});
const scheduling: Obj = {
  podAnnotations: strMap,
  nodeSelector: strMap,
  tolerations: list,
  affinity: anyObj,
  extraEnv: list,
  resources: anyObj,
};
const obj = (properties: Obj, required: string[] = []): Obj => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const external = (what: string, keyDefault: string): Obj =>
  obj({
    url: {
      type: 'string',
      description: `External ${what} URL; set (or existingSecret) and no ${what} is deployed.`,
    },
    existingSecret: str,
    existingSecretKey: { type: 'string', default: keyDefault },
    bundled: obj({ image, resources: anyObj }),
  });

export function valuesSchema(): Obj {
  const nats = external('NATS', 'nats-url');
  (nats.properties as Obj).credsSecret = str;
  (nats.properties as Obj).credsSecretKey = str;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Sluice Helm chart values',
    type: 'object',
    additionalProperties: false,
    properties: {
      global: anyObj,
      image,
      imagePullSecrets: list,
      nameOverride: str,
      fullnameOverride: str,
      clusterDomain: { type: 'string', minLength: 1 },
      relaySecret: obj({ value: str, existingSecret: str, key: { type: 'string', minLength: 1 } }),
      apiToken: obj({ value: str, existingSecret: str, key: { type: 'string', minLength: 1 } }),
      redis: external('Redis', 'redis-url'),
      nats,
      podSecurityContext: anyObj,
      securityContext: anyObj,
      ports: obj({ rtmp: port, rtsp: port, http: port, api: port, scheduler: port }),
      origin: obj({
        replicas: count,
        config: configSection('origin'),
        publicHost: str,
        service: obj({ type: serviceType, annotations: strMap, rtmpPort: port, rtspPort: port }),
        drain: obj({ timeoutSeconds: { type: 'integer', minimum: 0, maximum: 3600 } }),
        pdb: pdb({ maxUnavailable: intOrPercent }),
        ...scheduling,
      }),
      edge: obj({
        replicas: count,
        config: configSection('edge'),
        publicHost: str,
        service: obj({
          type: serviceType,
          annotations: strMap,
          rtmpPort: port,
          httpPort: port,
          rtspPort: port,
        }),
        drain: obj({ preStopSeconds: count, timeoutSeconds: { type: 'integer', minimum: 0, maximum: 3600 } }),
        autoscaling: obj({
          enabled: bool,
          minReplicas: { type: 'integer', minimum: 1 },
          maxReplicas: { type: 'integer', minimum: 1 },
          targetCPUUtilizationPercentage: { type: 'integer', minimum: 1, maximum: 100 },
          custom: obj({
            enabled: bool,
            provider: { enum: ['prometheus-adapter', 'keda'] },
            metric: { enum: ['sluice_viewers', 'sluice_sent_bytes'] },
            targetAverageValue: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?[kMG]?$' },
            keda: obj({ serverAddress: { type: 'string', pattern: '^https?://' }, query: str }),
          }),
          behavior: anyObj,
        }),
        pdb: pdb({ maxUnavailable: intOrPercent }),
        ...scheduling,
      }),
      scheduler: obj({
        replicas: count,
        config: configSection('scheduler'),
        service: obj({ type: serviceType, annotations: strMap, port }),
        terminationGracePeriodSeconds: count,
        pdb: pdb({ minAvailable: intOrPercent }),
        ingress: obj({
          enabled: bool,
          className: str,
          annotations: strMap,
          host: str,
          paths: { type: 'array', items: { type: 'string', pattern: '^/' } },
          tls: list,
        }),
        ...scheduling,
      }),
      metrics: obj({
        serviceMonitor: obj({
          enabled: bool,
          interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
          labels: strMap,
        }),
      }),
    },
  };
}

export function valuesSchemaText(): string {
  return JSON.stringify(valuesSchema(), null, 2) + '\n';
}

if (process.argv[1]?.endsWith('helm-values-schema.ts')) {
  writeFileSync(VALUES_SCHEMA_PATH, valuesSchemaText());
  process.stdout.write(`wrote ${VALUES_SCHEMA_PATH}\n`);
}
