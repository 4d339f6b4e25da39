import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from '../../libs/cluster/types.ts';
import { RtmpClientError } from '../../libs/rtmp/client-connection.ts';
import { StatusCode } from '../../libs/rtmp/commands.ts';
import {
  logLines,
  publishTo,
  RtmpViewer,
  startCluster,
  TIMING,
  type Cluster,
  assertEventsValid,
} from './helpers/cluster.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { waitFor } from './helpers/sluice.ts';

// Relay credentials at the origin, and the event stream as a consumer sees it on NATS: every
// subject occurs, every payload matches its JSON Schema.

const SPEC = { durationS: 6, width: 640, height: 360, fps: 25, gop: 25 };
const KEY = 'live/events';

let cluster: Cluster;
let media: string;
/** The origin records every publish to FLV here (record.* events); the edge cannot record. */
const recDir = mkdtempSync(join(tmpdir(), 'sluice-events-rec-'));

before(async () => {
  [media, cluster] = await Promise.all([
    makeTestFlv(SPEC),
    startCluster({ origins: 1, edges: 1, originConfig: { record: { flv: { enabled: true, dir: recDir } } } }),
  ]);
});

after(async () => {
  await cluster?.stop();
});

test('an origin refuses a relay pull with a wrong credential and serves one without any as a viewer', async () => {
  const origin = cluster.origins[0]!;
  const pub = await publishTo(origin, media, KEY);
  cluster.track(pub);
  const url = `${origin.rtmp}/${KEY}`;
  const wrong = 'wrong-relay-secret-0123';
  const mark = cluster.events.mark();

  const refused = await RtmpViewer.play(url, { connectArgs: { sluiceRelay: wrong } }).then(
    (v) => {
      v.close();
      return null;
    },
    (e: unknown) => e,
  );
  assert.ok(refused instanceof RtmpClientError, `refused: ${String(refused)}`);
  assert.equal(refused.code, StatusCode.PlayStreamNotFound);
  assert.match(refused.message, /relay credential rejected/);
  assert.equal(await counter(origin.api, 'sluice_play_refused_total', { proto: 'rtmp' }), 1);
  assert.equal(logLines(origin, 'play refused', KEY)[0]?.why, 'relay credential rejected');

  const viewer = await RtmpViewer.play(url);
  await waitFor(() => viewer.videoFrames().length >= 25, 5000, 'frames at the plain viewer');
  assert.equal(viewer.videoFrames()[0]!.key, true);
  // A relay pull names the epoch it resolved: the one the origin holds is served, others are not.
  const owner = await waitFor(() => cluster.registry.lookup(KEY), 3000, 'the claim');
  for (const [epoch, why] of [
    [undefined, /without an ownership epoch/],
    [owner.epoch - 1, new RegExp(`owned here at epoch ${owner.epoch}, not ${owner.epoch - 1}`)],
    [owner.epoch + 1, new RegExp(`owned here at epoch ${owner.epoch}, not ${owner.epoch + 1}`)],
  ] as const) {
    const args = { sluiceRelay: cluster.relaySecret, ...(epoch === undefined ? {} : { sluiceEpoch: epoch }) };
    const stale = await RtmpViewer.play(url, { connectArgs: args }).then(
      (v) => {
        v.close();
        return null;
      },
      (e: unknown) => e,
    );
    assert.ok(stale instanceof RtmpClientError, `epoch ${epoch}: ${String(stale)}`);
    assert.match(stale.message, why);
  }
  const relay = await RtmpViewer.play(url, {
    connectArgs: { sluiceRelay: cluster.relaySecret, sluiceEpoch: owner.epoch },
  });
  await waitFor(() => relay.videoFrames().length >= 5, 5000, 'frames at the credentialed pull');
  const kinds = await waitFor(
    () => {
      const s = cluster.events
        .of(Subject.SessionStarted, mark)
        .filter((e) => e.nodeId === 'origin-1' && e.protocol === 'rtmp');
      return s.length === 2 ? s.map((e) => e.kind) : null;
    },
    3000,
    'session.started for both plays',
  );
  assert.deepEqual(kinds, ['player', 'relay']);
  assert.equal(await counter(origin.api, 'sluice_relay_pulls_started_total'), 1);
  assert.equal(await counter(origin.api, 'sluice_play_started_total', { proto: 'rtmp' }), 1);
  viewer.close();
  relay.close();

  // Credentials never reach a log line.
  for (const node of [...cluster.origins, ...cluster.edges]) {
    const text = JSON.stringify(node.logs);
    assert.equal(text.includes(cluster.relaySecret), false, 'the relay secret is not logged');
    assert.equal(text.includes(wrong), false, 'a presented credential is not logged');
  }
});

test('a full stream life through an edge emits every event type, each matching its JSON Schema', async () => {
  const edge = cluster.edges[0]!;
  const viewer = httpFlv(`${edge.http}/${KEY}.flv`);
  await waitFor(() => viewer.videoFrames().length >= 10, 8000, 'the edge viewer playing');
  const relayStarted = await cluster.events.waitFor(Subject.RelayStarted, (e) => e.key === KEY, 3000);
  assert.deepEqual([relayStarted.nodeId, relayStarted.fromNodeId], ['edge-1', 'origin-1']);
  viewer.stop();
  const relayStopped = await cluster.events.waitFor(
    Subject.RelayStopped,
    (e) => e.key === KEY,
    TIMING.idleStopMs + 3000,
  );
  assert.equal(relayStopped.epoch, relayStarted.epoch);
  const stopped = await cluster.events.waitFor(
    Subject.SessionStopped,
    (e) => e.nodeId === 'edge-1' && e.kind === 'player' && e.key === KEY,
    3000,
  );
  assert.ok(stopped.bytesOut > 0 && stopped.durationMs > 0);

  // A publisher that ends: its origin announces the unpublish under the publish's epoch.
  const ffmpeg = await publishTo(cluster.origins[0]!, media, 'live/events-end');
  cluster.track(ffmpeg);
  const recStarted = await cluster.events.waitFor(
    Subject.RecordStarted,
    (e) => e.key === 'live/events-end',
    5000,
  );
  await ffmpeg.kill();
  const unpublished = await cluster.events.waitFor(
    Subject.StreamUnpublished,
    (e) => e.key === 'live/events-end',
    3000,
  );
  const published = cluster.events.of(Subject.StreamPublished).find((e) => e.key === 'live/events-end');
  assert.equal(unpublished.nodeId, 'origin-1');
  assert.equal(unpublished.epoch, published?.epoch);
  assert.equal(unpublished.sessionId, published!.sessionId);
  // Its recording: opened at the first key frame, closed with the file's final size.
  const recStopped = await cluster.events.waitFor(
    Subject.RecordStopped,
    (e) => e.key === 'live/events-end',
    3000,
  );
  assert.deepEqual(
    [recStarted.nodeId, recStarted.format, recStarted.sessionId],
    ['origin-1', 'flv', published!.sessionId],
  );
  assert.equal(recStopped.path, recStarted.path);
  assert.ok(recStopped.path.startsWith(`${recDir}/live/events-end/`), recStopped.path);
  assert.equal(recStopped.reason, 'unpublished');
  assert.equal(recStopped.bytes, statSync(recStopped.path).size);
  assert.ok(recStopped.bytes > 0 && recStopped.durationMs > 0);
  // The edge relayed KEY but records nothing: every recording event is the origin's.
  const recordEvents = [
    ...cluster.events.of(Subject.RecordStarted),
    ...cluster.events.of(Subject.RecordStopped),
  ];
  assert.ok(recordEvents.every((e) => e.nodeId === 'origin-1'));

  await cluster.events.waitFor(
    Subject.NodeHeartbeat,
    (e) => e.nodeId === 'edge-1' && e.role === 'edge',
    2000,
  );
  await cluster.events.waitFor(
    Subject.NodeHeartbeat,
    (e) => e.nodeId === 'origin-1' && e.role === 'origin',
    2000,
  );
  const seen = new Set(cluster.events.all.map((e) => e.subject));
  for (const subject of Object.values(Subject)) assert.ok(seen.has(subject), `a ${subject} event was seen`);
});

test('every event on the wire kept the contract, none was dropped as invalid, every node was heard', () => {
  assertEventsValid(cluster);
  assert.ok(cluster.events.all.length > 20, `${cluster.events.all.length} events`);
});
