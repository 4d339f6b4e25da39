import { hostname } from 'node:os';
import { createRootLogger } from '../../libs/log/logger.ts';
import { MediaNode } from '../node/media-node.ts';
import { loadStandaloneConfig } from './config.ts';

/** Standalone: one process, in-memory everything, no Redis or NATS. */
export async function runStandalone(configFile: string | undefined): Promise<void> {
  const cfg = loadStandaloneConfig(configFile);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  const node = new MediaNode(cfg, log);
  await node.start();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    node.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
