import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../libs/log/logger.ts';
import { RtmpClient, RtmpClientError } from '../../libs/rtmp/client-connection.ts';
import type { PublishDecision, SessionEnd } from '../../services/node/hooks.ts';
import { MediaNode } from '../../services/node/media-node.ts';
import { loadStandaloneConfig } from '../../services/standalone/config.ts';
import { httpFlv, wsFlv, type FlvCollector } from './helpers/flv-client.ts';
import { portOf } from './helpers/net.ts';
import { sleep, waitFor } from './helpers/sluice.ts';
import { SyntheticPublisher } from './helpers/synthetic-publisher.ts';

// A media node in this process, with real clients over loopback, so the test can count what
// the server hands to the kernel for each viewer socket and hook the node's role decisions.

/** Server-side socket writes (one per write/writev the socket makes) by the client's port. */
const writesByPeer = new Map<number, number>();
const proto = Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
const original = proto._writeGeneric;
let serverPorts = new Set<number>();
proto._writeGeneric = function (this: Socket, ...args: unknown[]) {
  if (this.localPort !== undefined && serverPorts.has(this.localPort) && this.remotePort !== undefined) {
    writesByPeer.set(this.remotePort, (writesByPeer.get(this.remotePort) ?? 0) + 1);
  }
  return original.apply(this, args);
};
after(() => {
  proto._writeGeneric = original;
});

const nodes: MediaNode[] = [];
const closers: (() => void)[] = [];
after(async () => {
  for (const c of closers) c();
  await Promise.all(nodes.map((n) => n.stop()));
});

async function startNode(
  config: object,
  hooks: ConstructorParameters<typeof MediaNode>[2] = {},
): Promise<{ node: MediaNode; rtmp: string; http: string; ws: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-inproc-'));
  const file = join(dir, 'standalone.json');
  writeFileSync(file, JSON.stringify(config));
  const cfg = loadStandaloneConfig(file, {
    SLUICE_RTMP_LISTEN: '127.0.0.1:0',
    SLUICE_HTTP_LISTEN: '127.0.0.1:0',
    SLUICE_RTSP_LISTEN: '127.0.0.1:0',
    SLUICE_API_LISTEN: '127.0.0.1:0',
  });
  const node = new MediaNode(cfg, silentLogger(), hooks);
  nodes.push(node);
  const at = await node.start();
  const rtmp = `rtmp://${at.rtmp!}`;
  const http = `http://${at.http!}`;
  serverPorts = new Set([...serverPorts, portOf(rtmp), portOf(http)]);
  return { node, rtmp, http, ws: http.replace('http:', 'ws:') };
}

const localPortOf = (c: FlvCollector | RtmpClient): Promise<number> =>
  waitFor(() => ('socket' in c ? c.socket.localPort : c.localPort) ?? null, 3000, 'the client port');

test('every viewer protocol gets one socket write per coalescing window', async (t) => {
  const WINDOW = 100;
  const n = await startNode({ viewer: { writeCoalesceMs: WINDOW } });
  // 50 video + 50 audio messages a second.
  const pub = await SyntheticPublisher.start(`${n.rtmp}/live/w`, { fps: 50, gop: 50 });
  closers.push(() => pub.close());
  const http = httpFlv(`${n.http}/live/w.flv`);
  const ws = wsFlv(`${n.ws}/live/w.flv`);
  const rtmp = await RtmpClient.connect(`${n.rtmp}/live/w`);
  let rtmpFrames = 0;
  rtmp.onMedia = () => rtmpFrames++;
  closers.push(
    () => http.stop(),
    () => ws.stop(),
    () => rtmp.close(),
  );
  await rtmp.play();
  await waitFor(
    () => http.videoFrames().length > 10 && ws.videoFrames().length > 10,
    3000,
    'viewers playing',
  );
  const ports = {
    'HTTP-FLV': await localPortOf(http),
    'WS-FLV': await localPortOf(ws),
    RTMP: await localPortOf(rtmp),
  };
  const before = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, writesByPeer.get(p) ?? 0]));
  const framesBefore = http.tags.length;
  const SPAN_MS = 2000;
  await sleep(SPAN_MS);
  const tagsInSpan = http.tags.length - framesBefore;
  assert.ok(tagsInSpan >= 150, `the stream kept flowing: ${tagsInSpan} tags in ${SPAN_MS} ms`);
  for (const [name, port] of Object.entries(ports)) {
    const writes = (writesByPeer.get(port) ?? 0) - before[name]!;
    t.diagnostic(`${name}: ${writes} socket writes for ~${tagsInSpan} messages in ${SPAN_MS} ms`);
    // 20 windows in the span; a window that straddles the edges, or a timer that fires late, adds a few.
    assert.ok(writes <= (SPAN_MS / WINDOW) * 1.5, `${name}: ${writes} writes in ${SPAN_MS} ms`);
    assert.ok(writes >= (SPAN_MS / WINDOW) * 0.5, `${name}: ${writes} writes, the stream stopped?`);
  }
  assert.ok(rtmpFrames > 100);
});

test('an HTTP-FLV viewer gets response headers, FLV header and the cached GOP in one write', async () => {
  const n = await startNode({ viewer: { writeCoalesceMs: 30 } });
  const pub = await SyntheticPublisher.start(`${n.rtmp}/live/burst`, { fps: 50, gop: 500 });
  closers.push(() => pub.close());
  await waitFor(() => pub.frames >= 30, 3000, 'a GOP of 30 frames');
  pub.pause(); // nothing live from here on: what the viewer gets is the start burst
  await sleep(100);
  const v = httpFlv(`${n.http}/live/burst.flv`);
  closers.push(() => v.stop());
  await waitFor(() => v.videoFrames().length >= 30, 3000, 'the burst');
  const writes = writesByPeer.get(await localPortOf(v)) ?? 0;
  assert.equal(writes, 1, `${writes} socket writes for the start of the response`);
});

test('a publish whose authorization never answers is refused after publishAuthTimeoutMs and frees its key', async () => {
  let calls = 0;
  const ended: string[] = [];
  const n = await startNode(
    { limits: { publishAuthTimeoutMs: 500 } },
    {
      authorizePublish: (): Promise<PublishDecision> =>
        calls++ === 0
          ? // A hook that answers "yes" long after the timeout: the late claim must be given back.
            new Promise((r) =>
              setTimeout(() => r({ ok: true, onEnd: () => ended.push('late yes given back') }), 1500),
            )
          : Promise.resolve({ ok: true, onEnd: () => ended.push('released') }),
    },
  );
  const c = await RtmpClient.connect(`${n.rtmp}/live/hung`);
  closers.push(() => c.close());
  const t0 = Date.now();
  const err = await c.publish().then(
    () => null,
    (e: unknown) => e,
  );
  const took = Date.now() - t0;
  assert.ok(err instanceof RtmpClientError, String(err));
  assert.equal(err.code, 'NetStream.Publish.Rejected');
  assert.ok(took >= 450 && took < 2000, `refused after ${took} ms`);
  assert.equal(n.node.counters.get('publish_refused', { reason: 'auth_timeout' }), 1);
  // The key is free again: the next publisher gets it.
  const again = await RtmpClient.connect(`${n.rtmp}/live/hung`);
  closers.push(() => again.close());
  await again.publish();
  again.close();
  await waitFor(() => ended.length === 2, 3000, 'the late answer given back, the second publish released');
  assert.deepEqual(ended.sort(), ['late yes given back', 'released']);
});

test('at shutdown every RTMP and HTTP session reports its end', async () => {
  const stops: SessionEnd[] = [];
  const n = await startNode({}, { sessionStopped: (s) => stops.push(s) });
  const pub = await SyntheticPublisher.start(`${n.rtmp}/live/bye`);
  const rtmp = await RtmpClient.connect(`${n.rtmp}/live/bye`);
  await rtmp.play();
  const flv = httpFlv(`${n.http}/live/bye.flv`);
  await waitFor(() => flv.videoFrames().length > 0, 3000, 'HTTP viewer playing');
  const waiting = await RtmpClient.connect(`${n.rtmp}/live/nobody`);
  const waitingPlay = waiting.play().catch(() => undefined);
  await sleep(100);
  await n.node.stop();
  nodes.splice(nodes.indexOf(n.node), 1);
  await waitingPlay;
  pub.close();
  flv.stop();
  await waitFor(() => stops.length >= 4, 2000, 'four session ends');
  await sleep(100); // a fifth would have come by now
  const byKind = stops.map((s) => `${s.kind}/${s.protocol}/${s.key}`).sort();
  assert.deepEqual(byKind, [
    'player/http-flv/live/bye',
    'player/rtmp/live/bye',
    'player/rtmp/live/nobody',
    'publisher/rtmp/live/bye',
  ]);
  const reasons = Object.fromEntries(stops.map((s) => [`${s.kind}/${s.protocol}/${s.key}`, s.reason]));
  assert.equal(reasons['player/rtmp/live/bye'], 'shutdown');
  assert.equal(reasons['player/http-flv/live/bye'], 'shutdown');
});

test('an HTTP-FLV viewer that stopped reading is let go when its stream ends (socket, session, slot)', async () => {
  const stops: SessionEnd[] = [];
  const n = await startNode(
    { stream: { waitPublisherMs: 300 }, viewer: { stallTimeoutMs: 60_000, maxBufferedBytes: 64 << 20 } },
    { sessionStopped: (s) => stops.push(s) },
  );
  const pub = await SyntheticPublisher.start(`${n.rtmp}/live/gone`, {
    fps: 50,
    keyBytes: 60_000,
    interBytes: 30_000,
  });
  closers.push(() => pub.close());
  const v = httpFlv(`${n.http}/live/gone.flv`, { pauseAfterHeaders: true });
  closers.push(() => v.stop());
  // Until the kernel buffers are full and the server holds a queue for the viewer.
  await waitFor(
    () => (n.node.hub.list().find((s) => s.key === 'live/gone')?.viewers[0]?.bufferedBytes ?? 0) > 1_000_000,
    10_000,
    'a queue at the server',
  );
  pub.close();
  const t0 = Date.now();
  await waitFor(() => stops.some((s) => s.protocol === 'http-flv'), 10_000, 'the viewer session to end');
  const took = Date.now() - t0;
  assert.ok(took < 8000, `let go after ${took} ms`);
  assert.equal(stops.find((s) => s.protocol === 'http-flv')!.reason, 'unpublished');
});
