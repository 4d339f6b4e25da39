import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedCommand } from './pinning.ts';
import { freePorts, superviseChild, waitListening, type SpawnedServer } from './server.ts';

export interface LalPorts {
  rtmp: number;
  http: number;
  rtsp: number;
}

/**
 * lalserver's JSON config (the keys of lal's conf/lalserver.conf.json, v0.4.1): RTMP, HTTP-FLV,
 * HTTP-TS (both at `/`, so `/app/name.flv` and `.ts` as on Sluice) and RTSP on loopback ports;
 * HLS on, as Sluice's default, held in memory as Sluice does, with lal's 3 s fragments.
 * A GOP cache of one GOP (`gop_num` 1; lal ships 0) as Sluice has, so first key frame times compare
 * like for like.
 * Everything that would open another port (RTMPS, HTTPS, WebSocket-RTSP, HTTP API, pprof) is off, and
 * the log is warn and above (level 3) on stdout, where the bench tallies it.
 */
export function lalConfig(dir: string, ports: LalPorts): Record<string, unknown> {
  const gop = { gop_num: 1, single_gop_max_frame_num: 0 };
  return {
    conf_version: 'v0.4.1',
    rtmp: { enable: true, addr: `127.0.0.1:${ports.rtmp}`, rtmps_enable: false, merge_write_size: 0, ...gop },
    in_session: { add_dummy_audio_enable: false, add_dummy_audio_wait_audio_ms: 150 },
    default_http: { http_listen_addr: `127.0.0.1:${ports.http}` },
    httpflv: { enable: true, enable_https: false, url_pattern: '/', ...gop },
    httpts: { enable: true, enable_https: false, url_pattern: '/', ...gop },
    hls: {
      enable: true,
      enable_https: false,
      url_pattern: '/hls/',
      out_path: join(dir, 'hls') + '/',
      fragment_duration_ms: 3000,
      fragment_num: 6,
      delete_threshold: 6,
      cleanup_mode: 1,
      use_memory_as_disk_flag: true,
    },
    rtsp: {
      enable: true,
      addr: `127.0.0.1:${ports.rtsp}`,
      rtsps_enable: false,
      out_wait_key_frame_flag: true,
      auth_enable: false,
      ws_rtsp_enable: false,
    },
    record: { enable_flv: false, enable_mpegts: false },
    relay_push: { enable: false, addr_list: [] },
    static_relay_pull: { enable: false, addr: '' },
    http_api: { enable: false },
    server_id: 'bench',
    http_notify: { enable: false },
    pprof: { enable: false },
    log: {
      level: 3,
      filename: join(dir, 'lalserver.log'),
      is_to_stdout: true,
      is_rotate_daily: false,
    },
  };
}

/** lal's log line as a tally key: without its colour codes, its date and time and the trailing " - file.go:123". */
function lalLogKey(raw: string): string | null {
  // lal colours its level names even when stdout is a pipe.
  // eslint-disable-next-line no-control-regex
  const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
  const m = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? (.*?)(?: - \S+\.go:\d+)?$/.exec(line);
  return m ? m[1]! : line || null;
}

/** `lalserver -c <config>` on fresh loopback ports; the child pid is the server. */
export async function spawnLal(bin: string, workDir: string, pinCpu: number | null): Promise<SpawnedServer> {
  const dir = join(workDir, 'lal');
  mkdirSync(dir, { recursive: true });
  const [rtmp, http, rtsp] = (await freePorts(3)) as [number, number, number];
  const conf = join(dir, 'lalserver.conf.json');
  writeFileSync(conf, JSON.stringify(lalConfig(dir, { rtmp, http, rtsp }), null, 2));
  const [file, args] = pinnedCommand(pinCpu, bin, ['-c', conf]);
  const child = spawn(file, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const sup = superviseChild(child, lalLogKey);
  try {
    await waitListening(rtmp, child, 'lalserver');
  } catch (e) {
    await sup.stop();
    const log = [...sup.warnings.keys()].slice(-5).join('; ');
    throw new Error(`${(e as Error).message}${log ? `: ${log}` : ''}`, { cause: e });
  }
  return {
    pid: child.pid!,
    rtmp: `rtmp://127.0.0.1:${rtmp}`,
    http: `http://127.0.0.1:${http}`,
    rtsp: `rtsp://127.0.0.1:${rtsp}`,
    // lal's HTTP API (off here) has no CPU figures: /proc describes the child.
    api: null,
    warnings: sup.warnings,
    stop: sup.stop,
  };
}
