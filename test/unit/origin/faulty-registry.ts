import { MemoryRegistry } from '../../../libs/cluster/memory-registry.ts';
import { RegistryUnavailableError } from '../../../libs/cluster/registry-errors.ts';
import type { StreamRegistry } from '../../../libs/cluster/types.ts';

/**
 * The in-memory registry with the faults a network adds, injected per call:
 *  - 'down': the call is refused before it is sent (RegistryUnavailableError);
 *  - 'lost': the call RUNS, then its reply is lost (rejects like a command timeout);
 *  - a delay before each call runs.
 * Everything else is the real MemoryRegistry, the same semantics as the Redis one.
 */
export type Fault = 'ok' | 'down' | 'lost';

export function faultyRegistry(inner = new MemoryRegistry()): {
  registry: StreamRegistry;
  inner: MemoryRegistry;
  fault: { mode: Fault; only?: keyof StreamRegistry; delayMs: number };
  calls: Record<string, number>;
} {
  const fault: { mode: Fault; only?: keyof StreamRegistry; delayMs: number } = { mode: 'ok', delayMs: 0 };
  const calls: Record<string, number> = {};
  const registry = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]): Promise<unknown> => {
        const name = String(prop);
        calls[name] = (calls[name] ?? 0) + 1;
        const mode = fault.only === undefined || fault.only === prop ? fault.mode : 'ok';
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (mode === 'down') throw new RegistryUnavailableError('registry: down (injected)');
        const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (mode === 'lost') throw new Error('Command timed out (injected: it ran, the reply was lost)');
        return result;
      };
    },
  }) as unknown as StreamRegistry;
  return { registry, inner, fault, calls };
}
