// Rebuilds test/fuzz/corpus/ from real captures: FLV files written by ffmpeg, and RTMP and
// HTTP-FLV sessions of ffmpeg, GStreamer (librtmp's rtmpsink/rtmpsrc and rtmp2sink) and a
// Sluice standalone, recorded by a TCP proxy between them. See corpus/README.md.
//   node --import tsx test/fuzz/make-corpus.ts
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCommandPayload } from '../../libs/amf/index.ts';
import { buildHevcConfig, parseAvcConfig, parseHevcConfig, splitAnnexB } from '../../libs/codec/index.ts';
import {
  encodeFlvHeader,
  encodeFlvTag,
  FlvReader,
  parseAudioTag,
  parseVideoTag,
} from '../../libs/flv/index.ts';
import type { FlvTag } from '../../libs/flv/index.ts';
import { TsMuxer } from '../../libs/mpegts/index.ts';
import type { TsInputFrame } from '../../libs/mpegts/index.ts';
import { ChunkReader } from '../../libs/rtmp/chunk-reader.ts';
import type { RtmpMessage } from '../../libs/rtmp/message-types.ts';
import { startSluice, sleep, TEST_CONFIG } from '../integration/helpers/sluice.ts';
import { encodeAmf3 } from './corpus-tools/amf3-encode.ts';
import { RecordingProxy } from './corpus-tools/recorder.ts';
import { rtspSeeds } from './corpus-tools/rtsp-seeds.ts';
import type { Recording } from './corpus-tools/recorder.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CORPUS = join(ROOT, 'test/fuzz/corpus');
const FIXTURES = join(ROOT, 'test/fixtures/codec');
const HANDSHAKE = 1 + 1536 + 1536;
/** Seeds are cut to these sizes: a fuzzer gains little from long media payloads. */
const STREAM_CAP = 12 * 1024;
const BODY_CAP = 1024;

/**
 * `--only mpegts,...`: rebuild only these folders, from the files ffmpeg writes (no RTMP or
 * HTTP sessions are recorded, so folders fed by sessions would come out incomplete).
 */
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null;
/** TS seeds are whole packets: 64 of them (the other streams are cut at STREAM_CAP). */
const TS_CAP = 64 * 188;

const tmp = mkdtempSync(join(tmpdir(), 'sluice-corpus-'));
const seeds = new Map<string, Map<string, Buffer>>(); // target -> file name -> bytes
const hashes = new Map<string, Set<string>>();
const apps = new Map<string, string>();
const tagsPerSource = new Map<string, number>(); // session -> app from its connect

/** Adds a seed unless the target already has the same bytes. */
function add(target: string, name: string, bytes: Buffer): void {
  const h = createHash('sha256').update(bytes).digest('hex');
  const seen = hashes.get(target) ?? new Set<string>();
  hashes.set(target, seen);
  if (seen.has(h) || bytes.length === 0) return;
  seen.add(h);
  const files = seeds.get(target) ?? new Map<string, Buffer>();
  seeds.set(target, files);
  let file = name;
  for (let i = 2; files.has(file); i++) file = `${name}-${i}`;
  files.set(file, bytes);
}

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) console.warn(`${cmd} exited ${code}: ${err.slice(-400)}`);
      resolve(code);
    });
  });
}
const ffmpeg = (...args: string[]): Promise<number | null> =>
  run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
const gst = (pipeline: string): Promise<number | null> =>
  run('gst-launch-1.0', ['-q', ...pipeline.split(' ')]);

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10'];
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];

// --- FLV files written by ffmpeg -------------------------------------------------------------

/** The FLV files made here, for the TS muxer. */
const flvSources: [string, Buffer][] = [];

const flvFiles: [string, string[]][] = [
  ['ffmpeg-h264-aac', [...VIDEO, ...AUDIO, '-t', '1', '-c:v', 'libx264', '-g', '5', '-c:a', 'aac']],
  ['ffmpeg-h264-high-bframes', [...VIDEO, '-t', '1', '-c:v', 'libx264', '-profile:v', 'high', '-bf', '2']],
  [
    'ffmpeg-h264-baseline-mp3',
    [...VIDEO, ...AUDIO, '-t', '1', '-c:v', 'libx264', '-profile:v', 'baseline', '-c:a', 'libmp3lame'],
  ],
  ['ffmpeg-aac-only', [...AUDIO, '-t', '0.5', '-c:a', 'aac', '-ac', '2', '-ar', '48000']],
  ['ffmpeg-nellymoser', [...AUDIO, '-t', '0.3', '-c:a', 'nellymoser', '-ar', '22050']],
];
for (const [name, args] of flvFiles) {
  const file = join(tmp, `${name}.flv`);
  await ffmpeg(...args, '-f', 'flv', file);
  addFlv(name, readFileSync(file));
  flvSources.push([name, readFileSync(file)]);
}

// H.265: ffmpeg 5.1 cannot write HEVC into FLV, so libx265's Annex-B output is wrapped here
// in the two forms servers meet: Enhanced RTMP 'hvc1' and the legacy CodecID 12 of lal/SRS.
await ffmpeg(
  ...VIDEO,
  '-t',
  '0.6',
  '-c:v',
  'libx265',
  '-x265-params',
  'log-level=none:keyint=3',
  '-f',
  'hevc',
  join(tmp, 'x.hevc'),
);
for (const form of ['enhanced', 'legacy12'] as const) {
  const flv = hevcFlv(readFileSync(join(tmp, 'x.hevc')), form);
  addFlv(`x265-h265-${form}`, flv);
  flvSources.push([`x265-h265-${form}`, flv]);
}

// --- MPEG-TS: ffmpeg's mpegts muxer, and TsMuxer (libs/mpegts) on the FLV files above ----------

const tsFiles: [string, string[]][] = [
  [
    'ffmpeg-h264-aac',
    [...VIDEO, ...AUDIO, '-t', '1', '-c:v', 'libx264', '-g', '5', '-bf', '2', '-c:a', 'aac'],
  ],
  ['ffmpeg-h265', [...VIDEO, '-t', '1', '-c:v', 'libx265', '-x265-params', 'log-level=none:keyint=5']],
  ['ffmpeg-mpeg2-mp2', [...VIDEO, ...AUDIO, '-t', '1', '-c:v', 'mpeg2video', '-c:a', 'mp2']],
  ['ffmpeg-aac-only', [...AUDIO, '-t', '1', '-c:a', 'aac']],
];
for (const [name, args] of tsFiles) {
  const file = join(tmp, `${name}.ts`);
  await ffmpeg(...args, '-f', 'mpegts', file);
  add('mpegts', name, readFileSync(file).subarray(0, TS_CAP));
}
for (const [name, flv] of flvSources) add('mpegts', `sluice-${name}`, muxFlv(flv).subarray(0, TS_CAP));

// --- RTMP and HTTP-FLV sessions through a recording proxy ------------------------------------

if (ONLY === null) {
  const sluice = await startSluice(TEST_CONFIG);
  const rtmpPort = Number(new URL(sluice.rtmp).port);
  const httpPort = Number(new URL(sluice.http).port);
  const rtmpProxy = await RecordingProxy.start(rtmpPort);
  const httpProxy = await RecordingProxy.start(httpPort);
  const rtmpUrl = (path: string): string => `rtmp://127.0.0.1:${rtmpProxy.port}/${path}`;
  const sessions: { name: string; rec: Recording }[] = [];
  const record = async (name: string, proxy: RecordingProxy, act: () => Promise<unknown>): Promise<void> => {
    const from = proxy.recordings.length;
    await act();
    proxy.since(from).forEach((rec, i) => sessions.push({ name: i === 0 ? name : `${name}-${i + 1}`, rec }));
  };

  try {
    // ffmpeg publishes H.264 + AAC while, one after the other, ffmpeg plays it over RTMP and
    // HTTP-FLV and librtmp plays it over RTMP.
    const from = rtmpProxy.recordings.length;
    const publish = ffmpeg(
      '-re',
      ...VIDEO,
      ...AUDIO,
      '-t',
      '6',
      '-c:v',
      'libx264',
      '-g',
      '10',
      '-c:a',
      'aac',
      '-f',
      'flv',
      rtmpUrl('live/ff?token=abc123'),
    );
    await sleep(1000);
    const rtmpPlays = async (): Promise<void> => {
      await record('ffmpeg-play', rtmpProxy, () =>
        ffmpeg('-i', rtmpUrl('live/ff'), '-t', '1', '-c', 'copy', '-f', 'null', '-'),
      );
      await record('librtmp-play', rtmpProxy, () =>
        gst(`rtmpsrc location=rtmp://127.0.0.1:${rtmpProxy.port}/live/ff num-buffers=30 ! fakesink`),
      );
    };
    const httpPlays = async (): Promise<void> => {
      await record('ffmpeg-http-flv', httpProxy, () =>
        ffmpeg(
          '-i',
          `http://127.0.0.1:${httpProxy.port}/live/ff.flv?token=abc123&x=1`,
          '-t',
          '1',
          '-c',
          'copy',
          '-f',
          'null',
          '-',
        ),
      );
      await record('ffmpeg-http-flv-plain', httpProxy, () =>
        ffmpeg(
          '-i',
          `http://127.0.0.1:${httpProxy.port}/live/ff.flv`,
          '-t',
          '0.5',
          '-c',
          'copy',
          '-f',
          'null',
          '-',
        ),
      );
    };
    await Promise.all([rtmpPlays(), httpPlays()]);
    await publish;
    sessions.push({ name: 'ffmpeg-publish', rec: rtmpProxy.recordings[from]! });

    await record('ffmpeg-publish-audio-only', rtmpProxy, () =>
      ffmpeg('-re', ...AUDIO, '-t', '1', '-c:a', 'aac', '-f', 'flv', rtmpUrl('live/audio')),
    );
    const gstAv = (sink: string): string =>
      `videotestsrc num-buffers=15 ! video/x-raw,width=64,height=48,framerate=10/1 ! x264enc key-int-max=5 ! h264parse ! ` +
      `flvmux name=m streamable=true ! ${sink} audiotestsrc num-buffers=15 ! voaacenc ! aacparse ! m.`;
    // librtmp, the library OBS used for years.
    await record('librtmp-publish', rtmpProxy, () =>
      gst(gstAv(`rtmpsink location=rtmp://127.0.0.1:${rtmpProxy.port}/live/gst`)),
    );
    await record('gst-rtmp2-publish', rtmpProxy, () =>
      gst(gstAv(`rtmp2sink location=rtmp://127.0.0.1:${rtmpProxy.port}/live/gst2?key=v`)),
    );
  } finally {
    await rtmpProxy.close();
    await httpProxy.close();
    await sluice.stop();
  }

  for (const { name, rec } of sessions) {
    if (name.includes('http')) {
      addHttp(name, rec);
      continue;
    }
    add('handshake-server', `${name}.c2s`, rec.c2s.subarray(0, HANDSHAKE + 64));
    add('handshake-client', `${name}.s2c`, rec.s2c.subarray(0, HANDSHAKE + 64));
    for (const [dir, bytes] of [
      ['c2s', rec.c2s],
      ['s2c', rec.s2c],
    ] as const) {
      const chunks = bytes.subarray(HANDSHAKE);
      add('rtmp-chunk', `${name}.${dir}`, chunks.subarray(0, STREAM_CAP));
      for (const m of readMessages(chunks)) addMessage(`${name}.${dir}`, m);
    }
  }
}

// --- Codec records from test/fixtures/codec (ffmpeg's mp4 muxer wrote them) -------------------

for (const f of readdirSync(FIXTURES).sort()) {
  const bytes = readFileSync(join(FIXTURES, f));
  const base = f.replace(/\.[a-z]+$/, '');
  if (f.endsWith('.avcc')) addAvcc(`fixture-${base}`, bytes);
  else if (f.endsWith('.hvcc')) addHvcc(`fixture-${base}`, bytes);
  else if (f.endsWith('.asc')) add('aac-asc', `fixture-${base}`, bytes);
  else if (f.endsWith('.h264'))
    for (const n of splitAnnexB(bytes))
      if ((n[0]! & 0x1f) === 7) add('h264-sps', `fixture-${base}`, n);
      else if (f.endsWith('.hevc'))
        for (const n of splitAnnexB(bytes))
          if (((n[0]! >> 1) & 0x3f) === 33) add('h265-sps', `fixture-${base}`, n);
}

// --- Config files: the shipped defaults of every role ------------------------------------------

for (const f of readdirSync(join(ROOT, 'conf')).sort())
  add('config', `conf-${f}`, readFileSync(join(ROOT, 'conf', f)));
add('config', 'test-config.json', Buffer.from(JSON.stringify(TEST_CONFIG, null, 2)));

// --- RTSP: ffmpeg publish captures (test/fixtures/rtsp), their SDPs, auth headers -------------

for (const s of rtspSeeds()) add(s.target, s.name, s.bytes);

// --- Write ------------------------------------------------------------------------------------

for (const dir of readdirSync(CORPUS, { withFileTypes: true })) {
  if (dir.isDirectory() && (ONLY === null || ONLY.has(dir.name)))
    rmSync(join(CORPUS, dir.name), { recursive: true });
}
let total = 0;
for (const [target, files] of [...seeds].sort()) {
  if (ONLY !== null && !ONLY.has(target)) continue;
  mkdirSync(join(CORPUS, target), { recursive: true });
  let bytes = 0;
  for (const [name, b] of files) {
    writeFileSync(join(CORPUS, target, `${name}.bin`), b);
    bytes += b.length;
  }
  total += bytes;
  console.log(
    `${target.padEnd(18)} ${String(files.size).padStart(3)} seeds ${String(bytes).padStart(7)} bytes`,
  );
}
console.log(`total ${total} bytes`);
rmSync(tmp, { recursive: true });
process.exit(0);

// --- Helpers ------------------------------------------------------------------------------------

function addFlv(name: string, flv: Buffer): void {
  add('flv', name, flv.subarray(0, STREAM_CAP));
  let tags: FlvTag[] = [];
  try {
    tags = new FlvReader().push(flv);
  } catch (e) {
    console.warn(`${name}: ${(e as Error).message}`);
  }
  tags.forEach((t, i) => addTag(`${name}.${i}`, t.type, t.body));
}

/** A tag body (or RTMP audio/video/data payload) and what it carries. */
function addTag(name: string, type: number, body: Buffer): void {
  // The first tags of each source (sequence headers, metadata, key frame) and every tenth after.
  const source = name.split('.')[0]!;
  const n = (tagsPerSource.get(source) ?? 0) + 1;
  tagsPerSource.set(source, n);
  if (n > 12 && n % 10 !== 0) return;
  add('flv-tag', name, Buffer.concat([Buffer.of(type), body.subarray(0, BODY_CAP)]));
  try {
    if (type === 9) {
      const v = parseVideoTag(body);
      if (v.isSequenceHeader && v.codec === 'avc') addAvcc(name, v.data);
      if (v.isSequenceHeader && v.codec === 'hevc') addHvcc(name, v.data);
    } else if (type === 8) {
      const a = parseAudioTag(body);
      if (a.isSequenceHeader && a.codec === 'aac') add('aac-asc', name, a.data);
    } else if (type === 18) {
      add('amf0', name, body);
    }
  } catch {
    // a seed that does not parse is still a seed
  }
}

function addAvcc(name: string, avcc: Buffer): void {
  add('avc-config', name, avcc);
  try {
    for (const sps of parseAvcConfig(avcc).sps) add('h264-sps', name, sps);
  } catch {
    // kept as a seed above
  }
}

function addHvcc(name: string, hvcc: Buffer): void {
  add('hevc-config', name, hvcc);
  try {
    for (const sps of parseHevcConfig(hvcc).sps) add('h265-sps', name, sps);
  } catch {
    // kept as a seed above
  }
}

function readMessages(chunks: Buffer): RtmpMessage[] {
  const reader = new ChunkReader();
  const out: RtmpMessage[] = [];
  // Push in pieces so the messages before a cut-off or bad byte are kept.
  for (let at = 0; at < chunks.length; at += 512) {
    try {
      out.push(...reader.push(chunks.subarray(at, at + 512)));
    } catch {
      break;
    }
  }
  return out;
}

/** Sorts one RTMP message into the targets that parse its payload. */
function addMessage(name: string, m: RtmpMessage): void {
  const typed = Buffer.concat([Buffer.of(m.typeId), m.payload.subarray(0, BODY_CAP)]);
  if (m.typeId === 8 || m.typeId === 9 || m.typeId === 18)
    addTag(`${name}.t${m.typeId}`, m.typeId, m.payload);
  if ([1, 2, 3, 4, 5, 6, 22].includes(m.typeId)) add('rtmp-control', `${name}.t${m.typeId}`, typed);
  if (![15, 17, 18, 20].includes(m.typeId)) return;
  add('rtmp-command', `${name}.t${m.typeId}`, typed);
  add('amf0', `${name}.t${m.typeId}`, m.payload);
  let values;
  try {
    values = decodeCommandPayload(m.typeId, m.payload);
  } catch {
    return;
  }
  // AMF3 as Flash Player sends it: format byte 0, the command name and transaction id in AMF0,
  // then each further value switched to AMF3 by the avmplus marker.
  const amf0 = (v: unknown): Buffer => {
    try {
      return decodeAndReencode(v);
    } catch {
      return Buffer.alloc(0);
    }
  };
  const parts: Buffer[] = [Buffer.of(0)];
  values.forEach((v, i) =>
    parts.push(i < 2 && typeof v !== 'object' ? amf0(v) : Buffer.concat([Buffer.of(0x11), encodeAmf3(v)])),
  );
  add('amf3', `${name}.t${m.typeId === 18 ? 15 : 17}`, Buffer.concat(parts));
  // publish(name, type), play(name, ...), FCPublish(name), releaseStream(name)
  const streamName = values[3];
  if (
    typeof values[0] === 'string' &&
    ['publish', 'play', 'FCPublish', 'releaseStream'].includes(values[0])
  ) {
    if (typeof streamName === 'string')
      add('stream-name', `${name}.${values[0]}`, Buffer.from(`${appOf(name)}\0${streamName}`));
  }
  if (values[0] === 'connect' && values[2] && typeof values[2] === 'object') {
    const o = values[2] as Record<string, unknown>;
    if (typeof o.app === 'string') apps.set(name.split('.')[0]!, o.app);
    if (typeof o.tcUrl === 'string')
      add('stream-name', `${name}.tcUrl`, Buffer.from(`${o.app as string}\0${o.tcUrl}`));
  }
}

function decodeAndReencode(v: unknown): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([Buffer.from([2, b.length >> 8, b.length & 0xff]), b]);
  }
  const b = Buffer.alloc(9);
  b[0] = 0;
  b.writeDoubleBE(typeof v === 'number' ? v : 0, 1);
  return b;
}

function appOf(name: string): string {
  return apps.get(name.split('.')[0]!) ?? 'live';
}

function addHttp(name: string, rec: Recording): void {
  const line = rec.c2s.toString('latin1').split('\r\n')[0] ?? '';
  const path = line.split(' ')[1];
  if (path) add('media-path', name, Buffer.from(path, 'latin1'));
  const end = rec.s2c.indexOf('\r\n\r\n');
  if (end >= 0 && rec.s2c.subarray(0, 12).toString('latin1').endsWith(' 200'))
    addFlv(`sluice-${name}`, rec.s2c.subarray(end + 4));
}

/** An FLV file through TsMuxer, tag by tag, as the stream hub feeds it. */
function muxFlv(flv: Buffer): Buffer {
  const muxer = new TsMuxer();
  const out: Buffer[] = [];
  for (const t of new FlvReader().push(flv)) {
    const kind = t.type as TsInputFrame['kind'];
    let isKeyFrame = false;
    let isSequenceHeader = false;
    try {
      if (kind === 9) ({ isKeyFrame, isSequenceHeader } = parseVideoTag(t.body));
      else if (kind === 8) isSequenceHeader = parseAudioTag(t.body).isSequenceHeader;
    } catch {
      // TsMuxer counts the bad tag itself
    }
    out.push(muxer.mux({ kind, timestampMs: t.timestampMs, payload: t.body, isKeyFrame, isSequenceHeader }));
  }
  return Buffer.concat(out);
}

/** An FLV file of libx265 output: sequence header from the parameter sets, then one tag per frame. */
function hevcFlv(annexB: Buffer, form: 'enhanced' | 'legacy12'): Buffer {
  const nalus = splitAnnexB(annexB);
  const ofType = (t: number): Buffer[] => nalus.filter((n) => ((n[0]! >> 1) & 0x3f) === t);
  const hvcc = buildHevcConfig(ofType(32), ofType(33), ofType(34));
  const header = (key: boolean, packetType: number): Buffer =>
    form === 'enhanced'
      ? Buffer.concat([
          Buffer.of(0x80 | ((key ? 1 : 2) << 4) | packetType),
          Buffer.from('hvc1'),
          packetType === 1 ? Buffer.alloc(3) : Buffer.alloc(0),
        ])
      : Buffer.of(((key ? 1 : 2) << 4) | 12, packetType, 0, 0, 0);
  const tags = [encodeFlvHeader(false, true), encodeFlvTag(9, 0, Buffer.concat([header(true, 0), hvcc]))];
  // Access units: a new one starts at each VCL NAL unit with first_slice_segment_in_pic_flag.
  const frames: Buffer[][] = [];
  for (const n of nalus) {
    const t = (n[0]! >> 1) & 0x3f;
    if (t >= 32 && t <= 34) continue;
    if (t < 32 && (n[2]! & 0x80) !== 0) frames.push([]);
    frames.at(-1)?.push(n);
  }
  frames.forEach((f, i) => {
    const key = f.some((n) => ((n[0]! >> 1) & 0x3f) >= 16 && ((n[0]! >> 1) & 0x3f) <= 21);
    const body = Buffer.concat(
      f.flatMap((n) => [
        Buffer.from([n.length >>> 24, (n.length >> 16) & 0xff, (n.length >> 8) & 0xff, n.length & 0xff]),
        n,
      ]),
    );
    tags.push(encodeFlvTag(9, i * 100, Buffer.concat([header(key, 1), body])));
  });
  return Buffer.concat(tags);
}
