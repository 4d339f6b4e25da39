import type { K8sObject } from './helm.ts';

// Validation of rendered manifests against the Kubernetes OpenAPI schemas as packaged by
// kubernetes-models (core API), @kubernetes-models/prometheus-operator (ServiceMonitor) and
// @kubernetes-models/keda (ScaledObject): offline, each kind's class validates itself.

const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
};

type Model = new (data: unknown) => { validate(): void };

/** Throws naming the object and the schema violation; an unknown apiVersion or kind fails too. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const where = `${obj.apiVersion} ${obj.kind}/${obj.metadata?.name}`;
  const mod = MODULES[obj.apiVersion];
  if (!mod) throw new Error(`${where}: no schema known for apiVersion ${obj.apiVersion}`);
  const models = (await import(mod)) as Record<string, Model | undefined>;
  const Kind = models[obj.kind];
  if (!Kind) throw new Error(`${where}: ${mod} has no kind ${obj.kind}`);
  try {
    new Kind(obj).validate();
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
}
