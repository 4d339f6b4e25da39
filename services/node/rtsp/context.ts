import type { Logger } from 'pino';
import type { Counters } from '../../../libs/metrics/counters.ts';
import type { RtspAuthenticator } from '../../../libs/rtsp/index.ts';
import type { StreamHub } from '../../../libs/stream/index.ts';
import type { NodeHooks } from '../hooks.ts';
import type { PublishGate } from '../publish-gate.ts';
import type { UdpPorts } from './udp-ports.ts';

/** The `rtsp` config section. */
export interface RtspConfig {
  enabled: boolean;
  listen: string;
  /** Seconds a session lives without a request or packet from its client (the Session timeout=). */
  sessionTimeoutS: number;
  udp: { enabled: boolean; portMin: number; portMax: number };
  auth: {
    realm: string;
    methods: ('basic' | 'digest')[];
    publish: { username: string; password: string }[];
    play: { username: string; password: string }[];
  };
}

/** What every RTSP connection of a node shares. */
export interface RtspContext {
  hub: StreamHub;
  hooks: NodeHooks;
  gate: PublishGate;
  counters: Counters;
  log: Logger;
  udp: UdpPorts | null;
  /** null: that action needs no credentials. */
  publishAuth: RtspAuthenticator | null;
  playAuth: RtspAuthenticator | null;
  sessionTimeoutS: number;
  /** A viewer's DESCRIBE waits this long for a publisher (stream.waitPublisherMs). */
  waitPublisherMs: number;
  /** A connection that sets up no session within this is closed (limits.idleTimeoutMs). */
  idleTimeoutMs: number;
  /** A publisher that sends no media for this long is closed (limits.publishIdleTimeoutMs). */
  publishIdleTimeoutMs: number;
}
