// Micro benchmark: ChunkReader throughput on 4096-byte-chunked video, fed in 64 KiB socket-sized
// reads. Run: node --import tsx test/bench/chunk-reader.bench.ts [totalMB]
import { ChunkReader } from '../../libs/rtmp/chunk-reader.ts';
import { encodeMessage } from '../../libs/rtmp/chunk-writer.ts';
import { setChunkSizeMessage } from '../../libs/rtmp/control.ts';
import { MessageType } from '../../libs/rtmp/message-types.ts';

const CHUNK_SIZE = 4096;
const READ_SIZE = 64 * 1024;
const totalMb = Number(process.argv[2] ?? 100);

// ~10 MB of video: a 150 KB key frame every 60 frames, 20 KB inter frames, 30 fps.
const parts: Buffer[] = [];
let bytes = 0;
for (let i = 0; bytes < 10 * 1024 * 1024; i++) {
  const payload = Buffer.alloc(i % 60 === 0 ? 150_000 : 20_000, i & 0xff);
  const encoded = encodeMessage(
    { csid: 6, typeId: MessageType.Video, streamId: 1, timestamp: Math.round((i * 1000) / 30), payload },
    CHUNK_SIZE,
  );
  parts.push(encoded);
  bytes += encoded.length;
}
const stream = Buffer.concat(parts);
const reads: Buffer[] = [];
for (let at = 0; at < stream.length; at += READ_SIZE) reads.push(stream.subarray(at, at + READ_SIZE));
const setChunkSize = encodeMessage(setChunkSizeMessage(CHUNK_SIZE), 128);

function run(passes: number): { messages: number; bytes: number; ms: number } {
  const reader = new ChunkReader();
  reader.push(setChunkSize);
  let messages = 0;
  const start = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) for (const r of reads) messages += reader.push(r).length;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { messages, bytes: passes * stream.length, ms };
}

run(2); // warm up
const passes = Math.max(1, Math.round((totalMb * 1024 * 1024) / stream.length));
const r = run(passes);
const mb = r.bytes / (1024 * 1024);
console.log(
  `chunk-reader: ${mb.toFixed(0)} MB, ${r.messages} messages in ${r.ms.toFixed(0)} ms = ${(mb / (r.ms / 1000)).toFixed(0)} MB/s`,
);
