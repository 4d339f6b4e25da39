import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { K8sObject } from './helm.ts';

// What a rendered workload's first pod would run: its container's command, args and environment
// (downward API, Secrets and $(VAR) references resolved as the kubelet does) and the files of its
// volumes laid out in a temporary directory standing in for each mount path.

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  emptyDir?: object;
}
interface PodTemplate {
  spec: { containers: Container[]; volumes?: Volume[] };
}

export interface PodRun {
  /** command + args, with mount paths mapped to the local directories. */
  argv: string[];
  env: Record<string, string>;
  /** mountPath -> local directory. */
  mounts: Record<string, string>;
  podName: string;
}

export interface PodContext {
  podIp: string;
  namespace: string;
  /** Values of Secrets the chart does not render (existingSecret): "name/key" -> value. */
  externalSecrets?: Record<string, string>;
}

function secretValue(objs: K8sObject[], name: string, key: string, ctx: PodContext): string {
  const s = objs.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (s) {
    const data = s.data as Record<string, string> | undefined;
    const stringData = s.stringData as Record<string, string> | undefined;
    if (stringData?.[key] !== undefined) return stringData[key];
    if (data?.[key] !== undefined) return Buffer.from(data[key], 'base64').toString('utf8');
    throw new Error(`Secret ${name} has no key ${key}`);
  }
  const v = ctx.externalSecrets?.[`${name}/${key}`];
  if (v === undefined) throw new Error(`Secret ${name} (key ${key}) is neither rendered nor given`);
  return v;
}

function configMapData(objs: K8sObject[], name: string): Record<string, string> {
  const c = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (!c) throw new Error(`ConfigMap ${name} is not rendered`);
  return (c.data ?? {}) as Record<string, string>;
}

/** `$(NAME)` references to earlier variables, `$$` escapes (Kubernetes dependent variables). */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && env[name] !== undefined ? env[name] : m,
  );
}

/** The first pod of a StatefulSet or Deployment, its `container` (default: the first). */
export function podRun(objs: K8sObject[], workload: K8sObject, ctx: PodContext, container?: string): PodRun {
  const template = (workload.spec as { template: PodTemplate }).template;
  const c = container
    ? template.spec.containers.find((x) => x.name === container)
    : template.spec.containers[0];
  if (!c) throw new Error(`${workload.metadata.name}: no container ${container ?? ''}`);
  const podName =
    workload.kind === 'StatefulSet'
      ? `${workload.metadata.name}-0`
      : `${workload.metadata.name}-7d9f8b6c5-x2k4q`;

  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    let value: string;
    if (v.value !== undefined) value = expand(v.value, env);
    else if (v.valueFrom?.fieldRef) {
      const f = v.valueFrom.fieldRef.fieldPath;
      if (f === 'metadata.name') value = podName;
      else if (f === 'metadata.namespace') value = ctx.namespace;
      else if (f === 'status.podIP') value = ctx.podIp;
      else throw new Error(`${workload.metadata.name}: env ${v.name} reads unsupported field ${f}`);
    } else if (v.valueFrom?.secretKeyRef) {
      value = secretValue(objs, v.valueFrom.secretKeyRef.name, v.valueFrom.secretKeyRef.key, ctx);
    } else if (v.valueFrom?.configMapKeyRef) {
      const d = configMapData(objs, v.valueFrom.configMapKeyRef.name);
      const got = d[v.valueFrom.configMapKeyRef.key];
      if (got === undefined) throw new Error(`ConfigMap has no key for env ${v.name}`);
      value = got;
    } else throw new Error(`${workload.metadata.name}: env ${v.name} has no value`);
    env[v.name] = value;
  }

  const root = mkdtempSync(join(tmpdir(), 'sluice-pod-'));
  const mounts: Record<string, string> = {};
  for (const m of c.volumeMounts ?? []) {
    const vol = template.spec.volumes?.find((x) => x.name === m.name);
    if (!vol) throw new Error(`${workload.metadata.name}: mount ${m.name} has no volume`);
    const dir = join(root, m.name);
    mkdirSync(dir, { recursive: true });
    if (vol.configMap) {
      for (const [k, text] of Object.entries(configMapData(objs, vol.configMap.name)))
        writeFileSync(join(dir, k), text);
    } else if (vol.secret) {
      const name = vol.secret.secretName;
      const s = objs.find((o) => o.kind === 'Secret' && o.metadata.name === name);
      const keys = s
        ? Object.keys({ ...(s.data as object), ...(s.stringData as object) })
        : Object.keys(ctx.externalSecrets ?? {})
            .filter((k) => k.startsWith(`${name}/`))
            .map((k) => k.slice(name.length + 1));
      for (const k of keys) writeFileSync(join(dir, k), secretValue(objs, name, k, ctx));
    } else if (!vol.emptyDir)
      throw new Error(`${workload.metadata.name}: volume ${vol.name} of an unknown type`);
    mounts[m.mountPath] = dir;
  }
  // Longest mount path first, so /etc/sluice-nats is not taken for /etc/sluice.
  const paths = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const local = (s: string): string => {
    for (const p of paths) if (s === p || s.startsWith(`${p}/`)) return mounts[p] + s.slice(p.length);
    return s;
  };
  for (const k of Object.keys(env)) env[k] = local(env[k] as string);
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map(local);
  return { argv, env, mounts, podName };
}
