import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { forEachInterleaved, interleavedHeader } from '../../../../libs/rtp/index.ts';
import { EndReason, type StreamStartInfo } from '../../../../libs/stream/index.ts';
import { RtspPlaySink, type TrackRoute, type TrackStart } from '../../../../services/node/rtsp/play-sink.ts';
import { rtpFormat } from '../../../../services/node/rtsp/rtp-format.ts';
import { buildStream, H264_AAC, newRtpState } from './media.ts';

// RtspPlaySink on fake sockets: what a player's connection (or its UDP ports) gets.

class FakeSocket {
  readonly writes: Buffer[] = [];
  writableLength = 0;
  corks = 0;
  write(b: Buffer | string): boolean {
    this.writes.push(typeof b === 'string' ? Buffer.from(b) : b);
    return true;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    this.corks--;
  }
}

class FakeDgram {
  readonly sent: { packet: Buffer; port: number; host: string }[] = [];
  queue = 0;
  send(packet: Buffer, port: number, host: string): void {
    this.sent.push({ packet, port, host });
  }
  getSendQueueSize(): number {
    return this.queue;
  }
}

const INFO: StreamStartInfo = { key: 'live/test', hasAudio: true, hasVideo: true };

/** The first GOP of the H.264 + AAC stream as the stream's RTP buffers (the start burst), then the rest. */
function burst(): { start: Buffer[]; later: Buffer[] } {
  const b = buildStream(H264_AAC);
  const st = newRtpState();
  const bufs = b.messages.map((m) => rtpFormat.serialize(m, st)).filter((x) => x.length > 0);
  return { start: bufs.slice(0, 10), later: bufs.slice(10) };
}

function sinkWith(routes: Map<number, TrackRoute>, sameChannels: boolean) {
  const socket = new FakeSocket();
  const ready: Map<number, TrackStart>[] = [];
  const ended: EndReason[] = [];
  const sink = new RtspPlaySink({
    id: 'p1',
    protocol: 'rtsp',
    socket: socket as unknown as Socket,
    routes,
    sameChannels,
    onReady: (s) => ready.push(s),
    onEnd: (r) => ended.push(r),
  });
  return { sink, socket, ready, ended };
}

/** Records of buffers as [channel, packet] pairs. */
function records(bufs: readonly Buffer[]): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (const b of bufs) forEachInterleaved(b, (ch, p) => out.push([ch, Buffer.from(p)]));
  return out;
}

const tcp = (rtpChannel: number): TrackRoute => ({ kind: 'tcp', rtpChannel });
const SAME = new Map([
  [0, tcp(0)],
  [2, tcp(2)],
]);

/** What the stream does for a joining player: start, then the burst inside one cork. */
function play(sink: RtspPlaySink, bufs: readonly Buffer[]): void {
  sink.start(INFO);
  sink.cork();
  for (const b of bufs) sink.write(b);
  sink.uncork();
}

test('writes are held until flush(): RTP-Info names the first packet of each track, the PLAY answer goes first', () => {
  const { start, later } = burst();
  const { sink, socket, ready } = sinkWith(SAME, true);
  play(sink, start);
  assert.equal(ready.length, 1);
  assert.equal(socket.writes.length, 0, 'nothing before the PLAY answer');
  const recs = records(start);
  const want = new Map<number, TrackStart>();
  for (const ch of [0, 2]) {
    const first = recs.find(([c]) => c === ch)![1];
    want.set(ch, { seq: first.readUInt16BE(2), rtptime: first.readUInt32BE(4) });
  }
  assert.deepEqual(ready[0], want);
  assert.equal(
    sink.bufferedBytes,
    start.reduce((n, b) => n + b.length, 0),
  );
  // More packets before the answer is out are held too.
  sink.write(later[0]!);
  socket.write('RTSP/1.0 200 OK\r\n\r\n');
  sink.flush();
  assert.equal(socket.corks, 0, 'corks and uncorks balance');
  assert.equal(socket.writes[0]!.toString(), 'RTSP/1.0 200 OK\r\n\r\n');
  assert.deepEqual(socket.writes.slice(1), [...start, later[0]!]);
  for (const b of later.slice(1)) sink.write(b);
  assert.deepEqual(socket.writes.slice(1), [...start, ...later]);
  assert.equal(sink.bufferedBytes, 0);
  sink.uncork();
  assert.equal(ready.length, 1, 'announced once');
});

test("same channels: the stream's Buffers go out as they are (no copies)", () => {
  const { start } = burst();
  const { sink, socket } = sinkWith(SAME, true);
  play(sink, start);
  sink.flush();
  start.forEach((b, i) => assert.equal(socket.writes[i], b));
});

test('not started: uncork does not announce; a burst without packets announces no starts', () => {
  const { sink, ready } = sinkWith(SAME, true);
  sink.cork();
  sink.uncork();
  assert.equal(ready.length, 0);
  sink.start(INFO);
  sink.cork();
  sink.uncork();
  assert.deepEqual(ready, [new Map()]);
});

const REWRITES: { name: string; routes: Map<number, TrackRoute>; map: Map<number, number> }[] = [
  {
    name: 'video on 2-3, audio on 0-1',
    routes: new Map([
      [0, tcp(2)],
      [2, tcp(0)],
    ]),
    map: new Map([
      [0, 2],
      [1, 3],
      [2, 0],
      [3, 1],
    ]),
  },
  {
    name: 'video on 10-11, audio on 4-5',
    routes: new Map([
      [0, tcp(10)],
      [2, tcp(4)],
    ]),
    map: new Map([
      [0, 10],
      [1, 11],
      [2, 4],
      [3, 5],
    ]),
  },
  {
    name: 'video only, on 0-1',
    routes: new Map([[0, tcp(0)]]),
    map: new Map([
      [0, 0],
      [1, 1],
    ]),
  },
  {
    name: 'audio only, on 0-1',
    routes: new Map([[2, tcp(0)]]),
    map: new Map([
      [2, 0],
      [3, 1],
    ]),
  },
];

for (const { name, routes, map } of REWRITES) {
  test(`records rewritten to the player's channels carry the same packets in order: ${name}`, () => {
    const { start, later } = burst();
    const { sink, socket, ready } = sinkWith(routes, false);
    play(sink, start);
    sink.flush();
    for (const b of later) sink.write(b);
    const want = records([...start, ...later])
      .filter(([ch]) => map.has(ch))
      .map(([ch, p]): [number, Buffer] => [map.get(ch)!, p]);
    assert.deepEqual(records([Buffer.concat(socket.writes)]), want);
    // RTP-Info stays keyed by the stream's channel (every track of the stream, routed or not):
    // the session picks the player's tracks from it.
    for (const ch of routes.keys()) assert.ok(ready[0]!.has(ch), `start of channel ${ch}`);
  });
}

test('UDP: RTP to the RTP port, RTCP to the RTCP port, packets without interleaved headers', () => {
  const { start, later } = burst();
  const v = { rtp: new FakeDgram(), rtcp: new FakeDgram() };
  const a = { rtp: new FakeDgram(), rtcp: new FakeDgram() };
  const udp = (s: typeof v, port: number): TrackRoute => ({
    kind: 'udp',
    rtp: s.rtp as unknown as DgramSocket,
    rtcp: s.rtcp as unknown as DgramSocket,
    host: '192.0.2.7',
    rtpPort: port,
    rtcpPort: port + 1,
  });
  const { sink, socket } = sinkWith(
    new Map([
      [0, udp(v, 5000)],
      [2, udp(a, 6000)],
    ]),
    false,
  );
  play(sink, start);
  sink.flush();
  for (const b of later) sink.write(b);
  assert.equal(socket.writes.length, 0, 'nothing on the RTSP connection');
  const recs = records([...start, ...later]);
  const cases: [FakeDgram, number, number][] = [
    [v.rtp, 0, 5000],
    [v.rtcp, 1, 5001],
    [a.rtp, 2, 6000],
    [a.rtcp, 3, 6001],
  ];
  for (const [sock, ch, port] of cases) {
    assert.deepEqual(
      sock.sent.map((s) => s.packet),
      recs.filter(([c]) => c === ch).map(([, p]) => p),
      `channel ${ch}`,
    );
    assert.ok(sock.sent.every((s) => s.port === port && s.host === '192.0.2.7'));
  }
  assert.equal(sink.udpDropped, 0);
});

test('UDP: a socket with a full send queue drops and counts instead of queueing', () => {
  const rtp = new FakeDgram();
  const rtcp = new FakeDgram();
  rtp.queue = 5_000;
  const route: TrackRoute = {
    kind: 'udp',
    rtp: rtp as unknown as DgramSocket,
    rtcp: rtcp as unknown as DgramSocket,
    host: '::1',
    rtpPort: 7000,
    rtcpPort: 7001,
  };
  const { sink } = sinkWith(new Map([[0, route]]), false);
  play(sink, []);
  sink.flush();
  const pkt = Buffer.alloc(20, 1);
  sink.write(
    Buffer.concat([
      interleavedHeader(0, 20),
      pkt,
      interleavedHeader(1, 20),
      pkt,
      interleavedHeader(0, 20),
      pkt,
    ]),
  );
  assert.equal(rtp.sent.length, 0);
  assert.equal(rtcp.sent.length, 1);
  assert.equal(sink.udpDropped, 2);
});

test('end(): reported once, what was held is dropped, later writes and flush() send nothing', () => {
  const { start } = burst();
  const { sink, socket, ended } = sinkWith(SAME, true);
  play(sink, start);
  sink.end(EndReason.Unpublished);
  sink.end(EndReason.Shutdown);
  assert.deepEqual(ended, [EndReason.Unpublished]);
  assert.equal(sink.bufferedBytes, 0);
  sink.flush();
  sink.write(start[0]!);
  assert.equal(socket.writes.length, 0);
});

test('end() before the start burst is complete: never announced', () => {
  const { sink, ready, ended } = sinkWith(SAME, true);
  sink.start(INFO);
  sink.cork();
  sink.end(EndReason.NotFound);
  sink.uncork();
  assert.equal(ready.length, 0);
  assert.deepEqual(ended, [EndReason.NotFound]);
});

test("bufferedBytes counts the socket's queue and what is held", () => {
  const { sink, socket } = sinkWith(SAME, true);
  socket.writableLength = 100;
  sink.write(Buffer.alloc(30));
  assert.equal(sink.bufferedBytes, 130);
  assert.equal(sink.format, rtpFormat);
});
