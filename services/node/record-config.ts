import type { EnvOverride } from '../../libs/config/load.ts';

/** The `record` section of the roles that have publishers (standalone, origin; edges do not record). */
export interface RecordConfig {
  flv: { enabled: boolean; dir: string };
  ts: { enabled: boolean; dir: string; resumeWithinMs: number };
  maxQueueBytes: number;
}

export const recordEnv: readonly EnvOverride[] = [
  { env: 'SLUICE_RECORD_FLV_DIR', path: ['record', 'flv', 'dir'], kind: 'string' },
  { env: 'SLUICE_RECORD_TS_DIR', path: ['record', 'ts', 'dir'], kind: 'string' },
];

const dirProperty = (def: string, env: string): object => ({
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  default: def,
  description: `Directory of the recordings (relative to the working directory; created as needed). Files go to <dir>/<app>/<name>/. Env ${env}.`,
});

export const recordProperty = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'Recording of the streams published to this node to files. Writes are queued and never hold up viewers; a write error (disk full) ends that file, is logged once and counted (sluice_record_errors_total).',
  properties: {
    flv: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: {
          type: 'boolean',
          default: false,
          description:
            'One FLV file per publish, <name>-<UTC YYYYMMDD-HHMMSS>-<publish id>.flv, from its first key frame; a publisher that reconnects starts a new file.',
        },
        dir: dirProperty('./record/flv', 'SLUICE_RECORD_FLV_DIR'),
      },
    },
    ts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: {
          type: 'boolean',
          default: false,
          description:
            'One long MPEG-TS file per stream, <name>-<UTC YYYYMMDD-HHMMSS>-<publish id>.ts, that continues across publisher reconnects (PAT/PMT again at the new first key frame, timestamps continued).',
        },
        dir: dirProperty('./record/ts', 'SLUICE_RECORD_TS_DIR'),
        resumeWithinMs: {
          type: 'integer',
          minimum: 0,
          maximum: 86400000,
          default: 60000,
          description:
            'A publisher that comes back within this long after the last one left continues the same TS file; later, a new file starts.',
        },
      },
    },
    maxQueueBytes: {
      type: 'integer',
      minimum: 65536,
      maximum: 1073741824,
      default: 8388608,
      description:
        'Bytes a recording file may have waiting for the disk; over it, frames are dropped until the next key frame (sluice_record_dropped_frames_total).',
    },
  },
} as const;
