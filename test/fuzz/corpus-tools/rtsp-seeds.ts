// Seeds for the rtsp-message, sdp and rtsp-auth fuzz targets, from the ffmpeg RTSP publish
// captures in test/fixtures/rtsp/ (see its README), the SDPs ffmpeg ANNOUNCEd there, the SDP
// our buildSdp makes of them, and Authorization values our client builds against our server's
// challenges (auth input: METHOD NUL URI NUL Authorization).
// make-corpus.ts uses it; alone it rewrites just these three folders:
//   node --import tsx test/fuzz/corpus-tools/rtsp-seeds.ts
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RtspAuthenticator,
  RtspClientAuth,
  RtspReader,
  buildSdp,
  parseSdp,
  trackCodec,
} from '../../../libs/rtsp/index.ts';
import type { SdpTrackSpec } from '../../../libs/rtsp/index.ts';

const FIXTURES = new URL('../../fixtures/rtsp/', import.meta.url).pathname;
const STREAM_CAP = 12 * 1024;

export function rtspSeeds(): { target: string; name: string; bytes: Buffer }[] {
  const out: { target: string; name: string; bytes: Buffer }[] = [];
  for (const f of readdirSync(FIXTURES)
    .filter((n) => n.endsWith('.bin'))
    .sort()) {
    const capture = readFileSync(join(FIXTURES, f));
    const base = f.replace(/\.bin$/, '');
    out.push({ target: 'rtsp-message', name: base, bytes: capture.subarray(0, STREAM_CAP) });
    const firstFrame = capture.indexOf(0x24);
    if (firstFrame > 0)
      out.push({ target: 'rtsp-message', name: `${base}-requests`, bytes: capture.subarray(0, firstFrame) });
    for (const item of new RtspReader().push(capture)) {
      if (item.type !== 'request' || item.request.method !== 'ANNOUNCE') continue;
      const sdp = item.request.body;
      out.push({ target: 'sdp', name: `${base}-announce`, bytes: sdp });
      const tracks: SdpTrackSpec[] = [];
      parseSdp(sdp.toString()).media.forEach((m, i) => {
        const codec = trackCodec(m);
        if (codec.codec !== 'unsupported') tracks.push({ control: `trackID=${i}`, codec });
      });
      const ours = buildSdp({ sessionName: 'live/test', originAddress: '127.0.0.1', tracks, sessionId: '1' });
      out.push({ target: 'sdp', name: `${base}-sluice-describe`, bytes: Buffer.from(ours) });
    }
  }
  const uri = 'rtsp://127.0.0.1:5544/live/test/trackID=0';
  const server = new RtspAuthenticator({
    realm: 'sluice',
    methods: ['digest', 'basic'],
    credentials: [{ username: 'admin', password: 'secret' }],
  });
  const [digest = '', basic = ''] = server.challenge();
  const cred = { username: 'admin', password: 'secret' };
  const auth = (name: string, value: string): void => {
    out.push({ target: 'rtsp-auth', name, bytes: Buffer.from(`SETUP\0${uri}\0${value}`) });
  };
  auth('digest', new RtspClientAuth(cred, [digest]).authorization('SETUP', uri));
  auth('digest-qop', new RtspClientAuth(cred, [`${digest}, qop="auth"`]).authorization('SETUP', uri));
  auth(
    'digest-sha256',
    new RtspClientAuth(cred, [`${digest}, algorithm=SHA-256, qop="auth"`]).authorization('SETUP', uri),
  );
  auth('basic', new RtspClientAuth(cred, [basic]).authorization('SETUP', uri));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const corpus = new URL('../corpus/', import.meta.url).pathname;
  const seeds = rtspSeeds();
  for (const t of new Set(seeds.map((s) => s.target))) {
    rmSync(join(corpus, t), { recursive: true, force: true });
    mkdirSync(join(corpus, t), { recursive: true });
  }
  for (const s of seeds) writeFileSync(join(corpus, s.target, `${s.name}.bin`), s.bytes);
  console.log(`${seeds.length} RTSP seeds`);
}
