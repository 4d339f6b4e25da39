import { ConfigError } from '../../../libs/config/load.ts';
import { isStreamKey } from '../../../libs/names/stream-key.ts';
import { parseRtspUrl, redactUrl } from '../../../libs/rtsp/index.ts';
import type { StaticPullConfig } from '../relay/config.ts';
import { PullProtocol } from '../relay/source.ts';

export { pickTracks } from '../relay/rtsp-source.ts';

/** The protocol label of an RTSP pull's publisher session. */
export const PULL_PROTOCOL = PullProtocol.Rtsp;

/**
 * One entry of `rtsp.pulls`: keep pulling `url` into the stream `key`. The older form of an
 * always-on relay.pulls entry with unlimited retries; both run as relay pulls (relay/).
 */
export interface RtspPullConfig {
  key: string;
  url: string;
  transport: 'tcp' | 'udp';
  /** Each request's answer, and RTP while playing, must come within this. */
  timeoutMs: number;
}

/**
 * Checks what the schema cannot: keys are stream keys, URLs parse, a key is pulled once.
 * ConfigError naming the entry otherwise.
 */
export function checkRtspPulls(pulls: readonly RtspPullConfig[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  pulls.forEach((p, i) => {
    if (!isStreamKey(p.key))
      problems.push(`rtsp.pulls[${i}].key ${JSON.stringify(p.key)} is not a stream key (app/name)`);
    if (seen.has(p.key)) problems.push(`rtsp.pulls[${i}].key ${JSON.stringify(p.key)} is pulled twice`);
    seen.add(p.key);
    try {
      parseRtspUrl(p.url);
    } catch {
      problems.push(
        `rtsp.pulls[${i}].url ${JSON.stringify(redactUrl(p.url))} is not an rtsp:// or rtsps:// URL`,
      );
    }
  });
  if (problems.length) throw new ConfigError(problems);
}

/** An rtsp.pulls entry as the static relay pull it is. */
export function staticPullOf(p: RtspPullConfig): StaticPullConfig {
  return {
    url: p.url,
    key: p.key,
    mode: 'always',
    retryNum: -1,
    autoStopAfterNoViewersMs: -1,
    timeoutMs: p.timeoutMs,
    rtspTransport: p.transport,
  };
}
