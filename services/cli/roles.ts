import { checkAll, type EnvOverride } from '../../libs/config/load.ts';
import { edgeEnv, loadEdgeConfig } from '../edge/config.ts';
import { natsSettingsOf, redisTargetOf } from '../node/cluster-config.ts';
import { resolveNodeId } from '../node/config-schema.ts';
import { checkMediaNodeConfig, type MediaNodeConfig } from '../node/media-node.ts';
import { readTlsListeners } from '../node/tls-files.ts';
import { loadOriginConfig, originEnv } from '../origin/config.ts';
import { loadSchedulerConfig, schedulerEnv } from '../scheduler/config.ts';
import { loadStandaloneConfig, standaloneEnv } from '../standalone/config.ts';

/** What the CLI knows of a role: how to describe it, check its configuration, and run it. */
export interface RoleSpec {
  summary: string;
  env: readonly EnvOverride[];
  /**
   * Everything the role checks of its configuration before it starts, without starting anything
   * (no socket, no connection): the schema with env overrides, then URLs, readable files, timings
   * and the node id. Throws a ConfigError listing every problem.
   */
  check(file: string | undefined, env: NodeJS.ProcessEnv): void;
  /**
   * Starts the role; resolves once it serves (it then runs until a signal). Imported when run:
   * only the cluster roles load the Redis and NATS clients, and a process loads one role's code.
   */
  run(file: string | undefined): Promise<void>;
}

export const roles = {
  standalone: {
    summary:
      'single node: RTMP(S) in; RTMP, HTTP-FLV, WebSocket-FLV, HTTP-TS, WebSocket-TS, HLS out (no Redis/NATS)',
    env: standaloneEnv,
    check(file, env) {
      const cfg = loadStandaloneConfig(file, env);
      checkAll([
        () => tlsFiles(cfg),
        () => checkMediaNodeConfig(cfg, { relay: cfg.relay }),
        () => resolveNodeId(cfg.nodeId),
      ]);
    },
    run: async (file) => (await import('../standalone/main.ts')).runStandalone(file),
  },
  origin: {
    summary: 'cluster origin: accepts publishes, owns streams in Redis, serves relay pulls',
    env: originEnv,
    check(file, env) {
      const cfg = loadOriginConfig(file, env);
      checkAll([
        () => natsSettingsOf(cfg.cluster),
        () => redisTargetOf(cfg.cluster),
        () => tlsFiles(cfg),
        () => checkMediaNodeConfig(cfg, { relay: cfg.relay }),
        () => resolveNodeId(cfg.nodeId),
      ]);
    },
    run: async (file) => (await import('../origin/main.ts')).runOrigin(file),
  },
  edge: {
    summary: 'cluster edge: serves viewers, pulls streams from origins on demand',
    env: edgeEnv,
    check(file, env) {
      const cfg = loadEdgeConfig(file, env);
      checkAll([
        () => natsSettingsOf(cfg.cluster),
        () => redisTargetOf(cfg.cluster),
        () => tlsFiles(cfg),
        () => checkMediaNodeConfig(cfg),
        () => resolveNodeId(cfg.nodeId),
      ]);
    },
    run: async (file) => (await import('../edge/main.ts')).runEdge(file),
  },
  scheduler: {
    summary: 'cluster scheduler: HTTP API on :8090 (routes viewers to edges, publishers to origins)',
    env: schedulerEnv,
    check(file, env) {
      const cfg = loadSchedulerConfig(file, env);
      checkAll([
        () => (cfg.cluster.natsUrl ? natsSettingsOf(cfg.cluster) : null),
        () => redisTargetOf(cfg.cluster),
      ]);
    },
    run: async (file) => (await import('../scheduler/main.ts')).runScheduler(file),
  },
} as const satisfies Record<string, RoleSpec>;

export type RoleName = keyof typeof roles;

/** The certificate and key files of the TLS listeners that are on (RTMPS, HTTPS). */
const tlsFiles = (cfg: Pick<MediaNodeConfig, 'rtmps' | 'https'>): unknown =>
  readTlsListeners({ rtmps: cfg.rtmps, https: cfg.https });

export const isRole = (s: string): s is RoleName => Object.hasOwn(roles, s);
