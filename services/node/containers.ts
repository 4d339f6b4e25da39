import { encodeFlvHeader } from '../../libs/flv/index.ts';
import type { OutputFormat, StreamStartInfo } from '../../libs/stream/index.ts';
import { flvFormat, tsFormat } from './formats.ts';

/** A continuous media body served over HTTP and WebSocket: `.flv` or `.ts`. */
export interface Container {
  readonly ext: string;
  readonly format: OutputFormat;
  readonly contentType: string;
  /** Protocol labels for metrics, sessions and events. */
  readonly httpProtocol: string;
  readonly wsProtocol: string;
  /** Session id prefixes (`flv-1a2b3c4d`). */
  readonly httpIdPrefix: string;
  readonly wsIdPrefix: string;
  /** The first bytes of the body for a starting viewer (FLV header; PAT/PMT for TS). */
  head(info: StreamStartInfo): Buffer | null;
}

export const flvContainer: Container = {
  ext: 'flv',
  format: flvFormat,
  contentType: 'video/x-flv',
  httpProtocol: 'http-flv',
  wsProtocol: 'ws-flv',
  httpIdPrefix: 'flv',
  wsIdPrefix: 'wsflv',
  head: (info) => encodeFlvHeader(info.hasAudio, info.hasVideo),
};

export const tsContainer: Container = {
  ext: 'ts',
  format: tsFormat,
  contentType: 'video/mp2t',
  httpProtocol: 'http-ts',
  wsProtocol: 'ws-ts',
  httpIdPrefix: 'ts',
  wsIdPrefix: 'wsts',
  head: (info) => info.preamble ?? null,
};

const byExt = new Map<string, Container>([
  ['flv', flvContainer],
  ['ts', tsContainer],
]);

/** The continuous container for a media path extension, if it is one. */
export function containerFor(ext: string): Container | undefined {
  return byExt.get(ext);
}
