import { readFileSync } from 'node:fs';
import { RtmpClient } from '../../../libs/rtmp/client-connection.ts';
import { MessageType } from '../../../libs/rtmp/message-types.ts';

const FIXTURES = new URL('../../fixtures/codec/', import.meta.url).pathname;
/** A real AVCDecoderConfigurationRecord (see test/fixtures/codec/README.md) and AAC config. */
const AVCC = readFileSync(`${FIXTURES}h264-baseline-320x240.avcc`);
const ASC = readFileSync(`${FIXTURES}aac-stereo-48000.asc`);

/** FLV video tag bodies (AVC): frame type and AVCPacketType, composition time 0, then data. */
export const avcSequenceHeader = (): Buffer => Buffer.concat([Buffer.of(0x17, 0, 0, 0, 0), AVCC]);
export const avcFrame = (key: boolean, bytes: number, fill = 0): Buffer =>
  Buffer.concat([Buffer.of(key ? 0x17 : 0x27, 1, 0, 0, 0), Buffer.alloc(bytes, fill)]);
export const aacSequenceHeader = (): Buffer => Buffer.concat([Buffer.of(0xaf, 0), ASC]);
export const aacFrame = (bytes: number): Buffer =>
  Buffer.concat([Buffer.of(0xaf, 1), Buffer.alloc(bytes, 0x55)]);

export interface SyntheticOptions {
  /** Video frames per second (default 25). */
  fps?: number;
  /** Frames per GOP (default 25). */
  gop?: number;
  keyBytes?: number;
  interBytes?: number;
  /** One AAC frame with every video frame (default true). */
  audio?: boolean;
  /** Timestamp of the first frame (default 0). */
  startTs?: number;
}

/**
 * An RTMP publisher of synthetic H.264/AAC tags at a steady rate (the payloads are not
 * decodable pictures: for tests of the server's delivery rules, sizes and timing).
 */
export class SyntheticPublisher {
  readonly client: RtmpClient;
  private readonly o: Required<SyntheticOptions>;
  private timer: NodeJS.Timeout | null = null;
  frames = 0;

  private constructor(client: RtmpClient, o: Required<SyntheticOptions>) {
    this.client = client;
    this.o = o;
  }

  static async start(url: string, opts: SyntheticOptions = {}): Promise<SyntheticPublisher> {
    const o: Required<SyntheticOptions> = {
      fps: 25,
      gop: 25,
      keyBytes: 2000,
      interBytes: 500,
      audio: true,
      startTs: 0,
      ...opts,
    };
    const c = await RtmpClient.connect(url, { timeoutMs: 5000 });
    await c.publish();
    c.sendMedia(MessageType.Video, o.startTs, avcSequenceHeader());
    if (o.audio) c.sendMedia(MessageType.Audio, o.startTs, aacSequenceHeader());
    const p = new SyntheticPublisher(c, o);
    p.timer = setInterval(() => p.sendFrame(), 1000 / o.fps);
    p.sendFrame();
    return p;
  }

  /** Timestamp of the next frame. */
  get nextTs(): number {
    return this.o.startTs + Math.round((this.frames * 1000) / this.o.fps);
  }

  sendFrame(): void {
    const ts = this.nextTs;
    const key = this.frames % this.o.gop === 0;
    this.client.sendMedia(MessageType.Video, ts, avcFrame(key, key ? this.o.keyBytes : this.o.interBytes));
    if (this.o.audio) this.client.sendMedia(MessageType.Audio, ts, aacFrame(200));
    this.frames++;
  }

  /** Stops sending media; the connection stays open. */
  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  close(): void {
    this.pause();
    this.client.close();
  }
}
