import { ProtocolError } from '../../../libs/errors/protocol-error.ts';
import { RtspAuthenticator, RtspReader, parseSdp, trackCodec } from '../../../libs/rtsp/index.ts';
import type { RtspItem } from '../../../libs/rtsp/index.ts';
import { parseAuthItems } from '../../../libs/rtsp/auth-params.ts';
import { invariant, pieces, splitPoints } from '../engine/target.ts';
import type { FuzzTarget } from '../engine/target.ts';

/** Small limits, so mutated inputs reach them. */
const LIMITS = { maxHeaderBytes: 2048, maxHeaderCount: 16, maxBodyBytes: 4096 };

function read(parts: readonly Buffer[]): {
  items: RtspItem[];
  error: ProtocolError | null;
  maxBuffered: number;
} {
  const reader = new RtspReader(LIMITS);
  const items: RtspItem[] = [];
  let maxBuffered = 0;
  for (const p of parts) {
    try {
      items.push(...reader.push(p));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // A dead reader rethrows the same error.
      try {
        reader.push(Buffer.from('OPTIONS * RTSP/1.0\r\n\r\n'));
        invariant(false, 'push after an error did not throw');
      } catch (again) {
        invariant(again === e, 'push after an error threw another error');
      }
      return { items, error: e, maxBuffered };
    }
    maxBuffered = Math.max(maxBuffered, reader.bufferedBytes);
    invariant(reader.bufferedBytes <= reader.maxBufferedBytes, () => `bufferedBytes ${reader.bufferedBytes}`);
  }
  return { items, error: null, maxBuffered };
}

function key(i: RtspItem): string {
  if (i.type === 'interleaved') return `$${i.channel}:${i.payload.toString('hex')}`;
  if (i.type === 'request') {
    const r = i.request;
    return `${r.method} ${r.uri} ${JSON.stringify([...r.headers.entries()])} ${r.body.toString('hex')}`;
  }
  const r = i.response;
  return `${r.status} ${r.reason} ${JSON.stringify([...r.headers.entries()])} ${r.body.toString('hex')}`;
}

const tokens = (list: string[]): Buffer[] => list.map((t) => Buffer.from(t, 'latin1'));

export const targets: FuzzTarget[] = [
  {
    name: 'rtsp-message',
    description: 'RtspReader (libs/rtsp), whole and split: ffmpeg publish sessions with interleaved RTP',
    dictionary: tokens([
      '\r\n',
      '\r\n\r\n',
      '\n\n',
      ' RTSP/1.0\r\n',
      'RTSP/1.0 200 OK\r\n',
      'Content-Length: ',
      'Content-Length: 99999\r\n',
      'CSeq: 1\r\n',
      ': ',
      '$',
      '$\x00\xff\xff',
      ' \t',
      'SETUP ',
      'RTSP/2.0',
    ]),
    run(input) {
      const whole = read([input]);
      const split = read(pieces(input, splitPoints(input, 8)));
      invariant(whole.error?.code === split.error?.code, 'split changed the outcome');
      const a = whole.items.map(key);
      const b = split.items.map(key);
      if (!whole.error) invariant(a.length === b.length, 'split changed the item count');
      for (let i = 0; i < Math.min(a.length, b.length); i++)
        invariant(a[i] === b[i], `item ${i} differs when split`);
      for (const it of whole.items) {
        if (it.type === 'interleaved') invariant(it.payload.length <= 0xffff && it.channel <= 255, 'frame');
        else
          invariant(
            (it.type === 'request' ? it.request : it.response).body.length <= LIMITS.maxBodyBytes,
            'body',
          );
      }
      if (whole.error) throw whole.error;
    },
  },
  {
    name: 'sdp',
    description: 'parseSdp + trackCodec for every media: ffmpeg ANNOUNCE bodies, Sluice DESCRIBE answers',
    maxInputBytes: 16 * 1024,
    dictionary: tokens([
      '\r\nm=video 0 RTP/AVP 96',
      '\r\na=rtpmap:96 H264/90000',
      '\r\na=rtpmap:96 H265/90000',
      '\r\na=rtpmap:97 MPEG4-GENERIC/44100/2',
      '\r\na=fmtp:96 ',
      'sprop-parameter-sets=',
      'sprop-vps=',
      'config=',
      'sizelength=',
      ';',
      ',',
      '=',
      '==',
      '\n',
      'a=control:',
    ]),
    run(input) {
      const s = parseSdp(input.toString('utf8'));
      invariant(s.media.length <= 64, 'media count');
      let error: ProtocolError | null = null;
      for (const m of s.media) {
        try {
          const c = trackCodec(m);
          invariant(c.payloadType === -1 || (c.payloadType >= 0 && c.payloadType <= 127), 'payload type');
          if (c.codec === 'aac')
            invariant(c.sizeLength > 0 && c.sizeLength <= 32 && c.config.length >= 2, 'aac');
        } catch (e) {
          // One bad track does not stop the others; the error is rethrown at the end.
          if (!(e instanceof ProtocolError)) throw e;
          error = e;
        }
      }
      if (error) throw error;
    },
  },
  (() => {
    const server = new RtspAuthenticator({
      realm: 'sluice',
      methods: ['digest', 'basic'],
      credentials: [{ username: 'admin', password: 'secret' }],
    });
    const target: FuzzTarget = {
      name: 'rtsp-auth',
      description:
        'RtspAuthenticator.verify on garbage Authorization values (input: METHOD NUL URI NUL value); never throws',
      maxInputBytes: 16 * 1024,
      allowed: () => false,
      dictionary: tokens([
        'Digest ',
        'Basic ',
        '"',
        '\\"',
        ', ',
        '=',
        'nonce="',
        'qop=auth',
        'nc=00000001',
        'algorithm=SHA-256',
        'response="',
      ]),
      run(input) {
        const [method = '', uri = '', value] = input.toString('utf8').split('\0');
        const r = server.verify(method, uri, value);
        invariant(r === 'ok' || r === 'missing' || r === 'denied' || r === 'stale', 'result');
        // Nonces in the corpus were issued by another instance: never accepted here.
        invariant(
          r !== 'ok' || parseAuthItems(value ?? '')[0]?.scheme === 'basic',
          'digest with a foreign nonce accepted',
        );
      },
    };
    return target;
  })(),
];
