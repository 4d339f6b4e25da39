import { hostname } from 'node:os';
import { createRootLogger } from '../../libs/log/logger.ts';
import { MediaNode } from '../node/media-node.ts';
import { onShutdownSignal } from '../node/shutdown.ts';
import { loadStandaloneConfig } from './config.ts';

/** Standalone: one process, in-memory everything, no Redis or NATS. */
export async function runStandalone(configFile: string | undefined): Promise<void> {
  const cfg = loadStandaloneConfig(configFile);
  cfg.nodeId ||= hostname();
  const log = createRootLogger({ level: cfg.log.level, nodeId: cfg.nodeId });
  const node = new MediaNode(cfg, log);
  await node.start();
  onShutdownSignal(log, () => node.stop());
}
