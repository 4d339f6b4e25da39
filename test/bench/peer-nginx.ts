import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaNodeProperties } from '../../services/node/config-schema.ts';
import { pinnedCommand } from './pinning.ts';
import { freePorts, superviseChild, waitListening, type SpawnedServer } from './server.ts';

/** Debian's nginx (package nginx, or the transitional nginx-light) and libnginx-mod-rtmp. */
export const NGINX_BIN = '/usr/sbin/nginx';
export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
/** Sluice's own outgoing chunk size, so both servers cut messages alike. */
const SLUICE_OUT_CHUNK_SIZE = mediaNodeProperties.rtmp.properties.outChunkSize.default;
/** Connections beyond the players: the publisher, the readiness probe, a margin. */
const SPARE_CONNECTIONS = 64;

export interface NginxRtmpConfig {
  workDir: string;
  rtmpPort: number;
  app: string;
  players: number;
  modulePath: string;
}

/**
 * The whole nginx.conf of the peer. One process that is the server (no master, no daemon), so
 * /proc/<pid> holds all its CPU; error log and pid file in the work dir, so it runs unprivileged
 * (no `user`: without a master process nginx never switches user). No http block: nginx does
 * not need one, and an RTMP peer should not pay for it. Access logs off, as Sluice logs no
 * session lines at warn. `live on` and nginx-rtmp's defaults otherwise: it has no GOP cache.
 */
export function nginxRtmpConfig(c: NginxRtmpConfig): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(c.workDir, 'nginx.pid')};
error_log ${join(c.workDir, 'nginx-error.log')} warn;
load_module ${c.modulePath};

events {
  worker_connections ${c.players + SPARE_CONNECTIONS};
}

rtmp {
  access_log off;
  server {
    listen 127.0.0.1:${c.rtmpPort};
    chunk_size ${SLUICE_OUT_CHUNK_SIZE};
    application ${c.app} {
      live on;
    }
  }
}
`;
}

/** Why nginx-rtmp cannot run here, or null when it can. */
export function nginxRtmpMissing(): string | null {
  try {
    accessSync(NGINX_BIN, constants.X_OK);
  } catch {
    return `${NGINX_BIN} is not installed`;
  }
  if (!existsSync(NGINX_RTMP_MODULE)) return `${NGINX_RTMP_MODULE} is not installed`;
  return null;
}

/** nginx's error log line as a tally key: without the date, pid#tid and connection number. */
function nginxLogKey(line: string): string | null {
  const m = /^\S+ \S+ \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$/.exec(line);
  if (m) return `[${m[1]}] ${m[2]}`;
  return line || null;
}

/** nginx with the RTMP module, on a fresh loopback port; the child pid is the server. */
export async function spawnNginxRtmp(
  workDir: string,
  app: string,
  players: number,
  pinCpu: number | null,
): Promise<SpawnedServer> {
  const missing = nginxRtmpMissing();
  if (missing) throw new Error(`--peer nginx-rtmp: ${missing} (apt-get install nginx libnginx-mod-rtmp)`);
  const dir = join(workDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const errorLog = join(dir, 'nginx-error.log');
  rmSync(errorLog, { force: true });
  const [rtmpPort] = await freePorts(1);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    nginxRtmpConfig({ workDir: dir, rtmpPort: rtmpPort!, app, players, modulePath: NGINX_RTMP_MODULE }),
  );
  // -e: the log nginx writes before it has read error_log (its built-in path may be unwritable).
  const [file, args] = pinnedCommand(pinCpu, NGINX_BIN, ['-e', errorLog, '-p', dir, '-c', conf]);
  const child = spawn(file, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const sup = superviseChild(child, nginxLogKey);
  const tallyErrorLog = (): void => {
    if (!existsSync(errorLog)) return;
    for (const line of readFileSync(errorLog, 'utf8').split('\n')) {
      const k = nginxLogKey(line.trim());
      if (k) sup.warnings.set(k.slice(0, 160), (sup.warnings.get(k.slice(0, 160)) ?? 0) + 1);
    }
  };
  let tallied = false;
  const stop = async (): Promise<number | null> => {
    const code = await sup.stop();
    if (!tallied) tallyErrorLog();
    tallied = true;
    return code;
  };
  try {
    await waitListening(rtmpPort!, child, 'nginx');
  } catch (e) {
    await stop();
    const log = [...sup.warnings.keys()].join('; ');
    throw new Error(`${(e as Error).message}${log ? `: ${log}` : ''}`, { cause: e });
  }
  return {
    pid: child.pid!,
    rtmp: `rtmp://127.0.0.1:${rtmpPort}`,
    http: '',
    rtsp: '',
    api: null,
    warnings: sup.warnings,
    stop,
  };
}
