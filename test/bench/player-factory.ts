import type { Agent } from 'node:http';
import { Proto } from './args.ts';
import { HlsBenchClient, HlsPoller, hlsAgent } from './hls-client.ts';
import type { StreamLatency } from './latency-probe.ts';
import { FlvBenchPlayer, type BenchPlayer } from './players.ts';
import { RtmpBenchPlayer } from './rtmp-player.ts';
import { RtspBenchPlayer } from './rtsp-player.ts';
import type { ServerEndpoints } from './server.ts';
import { TsBenchPlayer, WsTsBenchPlayer } from './ts-players.ts';
import { WsFlvBenchPlayer } from './ws-flv-player.ts';

/** Makes players of one protocol for any stream, and owns what they share (the HLS agent and poller). */
export class PlayerFactory {
  private readonly ep: ServerEndpoints;
  private readonly timeoutMs: number;
  private readonly hlsSockets: number;
  private agent: Agent | null = null;
  private poller: HlsPoller | null = null;

  constructor(ep: ServerEndpoints, timeoutMs: number, hlsSockets: number) {
    this.ep = ep;
    this.timeoutMs = timeoutMs;
    this.hlsSockets = hlsSockets;
  }

  /** The URL a `proto` player of `app/name` opens. */
  url(proto: Proto, app: string, name: string): string {
    const http = `${this.ep.http}/${app}/${name}`;
    switch (proto) {
      case Proto.Rtmp:
        return `${this.ep.rtmp}/${app}/${name}`;
      case Proto.Flv:
        return `${http}.flv`;
      case Proto.WsFlv:
        return `${http.replace(/^http/, 'ws')}.flv`;
      case Proto.Ts:
        return `${http}.ts`;
      case Proto.WsTs:
        return `${http.replace(/^http/, 'ws')}.ts`;
      case Proto.Hls:
        return `${http}.m3u8`;
      case Proto.Rtsp:
        return `${this.ep.rtsp}/${app}/${name}`;
    }
  }

  /**
   * A `proto` player of `app/name`. RTMP, FLV and TS players report frame receive times to
   * `latency`, the send-time table of that stream's publisher (RTSP and HLS are not measured).
   */
  start(proto: Proto, app: string, name: string, latency: StreamLatency | null = null): BenchPlayer {
    const url = this.url(proto, app, name);
    switch (proto) {
      case Proto.Rtmp:
        return new RtmpBenchPlayer(url, this.timeoutMs, latency);
      case Proto.Flv:
        return new FlvBenchPlayer(url, this.timeoutMs, latency);
      case Proto.WsFlv:
        return new WsFlvBenchPlayer(url, this.timeoutMs, latency);
      case Proto.Ts:
        return new TsBenchPlayer(url, this.timeoutMs, latency);
      case Proto.WsTs:
        return new WsTsBenchPlayer(url, this.timeoutMs, latency);
      case Proto.Hls:
        this.agent ??= hlsAgent(this.hlsSockets);
        this.poller ??= new HlsPoller();
        return this.poller.add(new HlsBenchClient(url, this.agent, this.timeoutMs));
      case Proto.Rtsp:
        return new RtspBenchPlayer(url, this.timeoutMs);
    }
  }

  /** Stops the HLS poller and closes the agent's sockets (players are stopped by their owner). */
  close(): void {
    this.poller?.stop();
    this.agent?.destroy();
  }
}

/**
 * Resolves once `url` (a playlist) answers 200 after its session redirect, so HLS clients start
 * on a stream that has segments, as players of a live stream do. Throws after `timeoutMs`.
 */
export async function waitForPlaylist(url: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < until) {
    try {
      const r = await fetch(url, {
        signal: AbortSignal.timeout(Math.ceil(Math.max(1000, until - performance.now()))),
      });
      await r.arrayBuffer();
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no HLS playlist at ${url} within ${timeoutMs} ms (${last})`);
}
