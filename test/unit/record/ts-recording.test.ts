import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FlvReader, parseAudioTag, parseVideoTag } from '../../../libs/flv/index.ts';
import { silentLogger } from '../../../libs/log/logger.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { parsePesHeader, Pid, SluicePid } from '../../../libs/mpegts/index.ts';
import type { RecordFileEnd, RecordFileInfo } from '../../../libs/record/record-file.ts';
import { MediaKind, StreamHub, type IncomingFrame, type StreamOptions } from '../../../libs/stream/index.ts';
import { Recording } from '../../../services/node/recording.ts';

const streamOpts: StreamOptions = {
  gopCache: true,
  gopCacheMaxBytes: 1 << 20,
  waitPublisherMs: 5000,
  maxBufferedBytes: 1 << 30,
  stallTimeoutMs: 60_000,
  writeCoalesceMs: 0,
};

/** test/fixtures/flv/x.flv (H.264 with B-frames + AAC, 0.5 s, by ffmpeg) as a publisher's frames, shifted by `t0`. */
function publisherFrames(t0: number): IncomingFrame[] {
  const flv = readFileSync(new URL('../../fixtures/flv/x.flv', import.meta.url));
  return new FlvReader().push(flv).flatMap((t): IncomingFrame[] => {
    if (t.type === 9) {
      const v = parseVideoTag(t.body);
      if (v.packetType !== 'codedFrames' && !v.isSequenceHeader) return [];
      const kind = MediaKind.Video;
      return [
        {
          kind,
          timestampMs: t0 + t.timestampMs,
          payload: t.body,
          isKeyFrame: v.isKeyFrame && !v.isSequenceHeader,
          isSequenceHeader: v.isSequenceHeader,
        },
      ];
    }
    if (t.type === 8) {
      const a = parseAudioTag(t.body);
      return [
        {
          kind: MediaKind.Audio,
          timestampMs: t0 + t.timestampMs,
          payload: t.body,
          isKeyFrame: false,
          isSequenceHeader: a.isSequenceHeader,
        },
      ];
    }
    return [
      { kind: MediaKind.Data, timestampMs: 0, payload: t.body, isKeyFrame: false, isSequenceHeader: false },
    ];
  });
}

interface Packet {
  index: number;
  pid: number;
  cc: number;
  hasPayload: boolean;
  pusi: boolean;
  payload: Buffer;
}

function packets(ts: Buffer): Packet[] {
  assert.equal(ts.length % 188, 0, 'whole packets');
  const out: Packet[] = [];
  for (let at = 0, i = 0; at < ts.length; at += 188, i++) {
    const p = ts.subarray(at, at + 188);
    assert.equal(p[0], 0x47, `sync byte of packet ${i}`);
    const afc = (p[3]! >>> 4) & 3;
    const start = afc & 2 ? 5 + p[4]! : 4;
    out.push({
      index: i,
      pid: ((p[1]! & 0x1f) << 8) | p[2]!,
      cc: p[3]! & 0x0f,
      hasPayload: (afc & 1) !== 0,
      pusi: (p[1]! & 0x40) !== 0,
      payload: p.subarray(start),
    });
  }
  return out;
}

function setup(resumeWithinMs: number): {
  hub: StreamHub;
  recording: Recording;
  dir: string;
  started: RecordFileInfo[];
  stopped: RecordFileEnd[];
} {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rec-ts-'));
  const hub = new StreamHub(streamOpts, { log: silentLogger(), counters: new Counters() });
  const started: RecordFileInfo[] = [];
  const stopped: RecordFileEnd[] = [];
  const recording = new Recording(
    { flv: { enabled: false, dir }, ts: { enabled: true, dir, resumeWithinMs }, maxQueueBytes: 8 << 20 },
    {
      log: silentLogger(),
      counters: new Counters(),
      started: (r) => started.push(r),
      stopped: (r) => stopped.push(r),
    },
  );
  hub.onStreamCreated = (s) => recording.attach(s);
  return { hub, recording, dir, started, stopped };
}

function publish(hub: StreamHub, key: string, id: string, t0: number): void {
  const s = hub.getOrCreate(key);
  const h = s.attachPublisher(id)!;
  for (const f of publisherFrames(t0)) s.write(h, f);
  s.detachPublisher(h);
}

test('ts recording: one file across a publisher reconnect (new stream object), PAT/PMT again at the second key frame, counters and timestamps continuous', async () => {
  const { hub, recording, dir, started, stopped } = setup(10_000);
  publish(hub, 'live/long', 'rtmp-aaaaaaaa', 0);
  assert.equal(hub.get('live/long'), undefined, 'no viewer: the stream is gone between the publishers');
  publish(hub, 'live/long', 'rtmp-bbbbbbbb', 7_000_000); // the new publisher's clock is elsewhere
  assert.equal(started.length, 1, 'one file');
  assert.match(relative(dir, started[0]!.path), /^live\/long\/long-\d{8}-\d{6}-aaaaaaaa\.ts$/);
  await recording.stop();
  assert.equal(stopped.length, 1);
  assert.equal(stopped[0]!.reason, 'shutdown');
  const ts = readFileSync(started[0]!.path);
  assert.equal(stopped[0]!.bytes, statSync(started[0]!.path).size);
  const pk = packets(ts);

  // Continuity counters: +1 (mod 16) on every packet with payload, per PID, through the reconnect.
  const last = new Map<number, number>();
  for (const p of pk) {
    if (!p.hasPayload) continue;
    const prev = last.get(p.pid);
    if (prev !== undefined) assert.equal(p.cc, (prev + 1) % 16, `cc of packet ${p.index} (pid ${p.pid})`);
    last.set(p.pid, p.cc);
  }

  // Video PES: the two parts each start with PAT, PMT, then a random-access key frame.
  const videoPes = pk.filter((p) => p.pid === SluicePid.Video && p.pusi);
  assert.equal(videoPes.length, 10, '5 frames per publisher');
  for (const first of [videoPes[0]!, videoPes[5]!]) {
    assert.equal(pk[first.index - 2]!.pid, Pid.Pat, 'PAT before the part');
    assert.equal(pk[first.index - 1]!.pid, SluicePid.Pmt, 'PMT before the part');
  }
  const dts = videoPes.map((p) => parsePesHeader(p.payload).dts90k!);
  for (let i = 1; i < dts.length; i++)
    assert.ok(dts[i]! > dts[i - 1]!, `video DTS increases (${dts.join(',')})`);
  assert.equal(dts[0], 0, 'the file starts at 0');
  // Part two goes on 40 ms after part one's last frame, whatever the new publisher's clock said.
  const partOneEndMs = Math.max(
    ...publisherFrames(0)
      .filter((f) => f.kind !== MediaKind.Data && !f.isSequenceHeader)
      .map((f) => f.timestampMs),
  );
  assert.equal(dts[5], (partOneEndMs + 40) * 90, 'the second part starts 40 ms after the first one ended');
  assert.equal(stopped[0]!.durationMs, 2 * partOneEndMs + 40);
  hub.close();
});

test('ts recording: a publisher that comes back after resumeWithinMs starts a new file', async () => {
  const { hub, recording, started, stopped } = setup(30);
  publish(hub, 'live/gap', 'rtmp-cccccccc', 0);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(stopped.length, 1, 'the first file closed once the window passed');
  assert.equal(stopped[0]!.reason, 'stream ended');
  publish(hub, 'live/gap', 'rtmp-dddddddd', 0);
  assert.equal(started.length, 2);
  assert.notEqual(started[0]!.path, started[1]!.path);
  await recording.stop();
  assert.equal(stopped.length, 2);
  hub.close();
});
