import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from '../../libs/cluster/types.ts';
import { assertEventsValid, startCluster, type Cluster } from './helpers/cluster.ts';
import { makeTestFlv, probe, publish, tlsVerifyArgs } from './helpers/media.ts';
import { counter } from './helpers/net.ts';
import { makeTestPki, type TestPki } from './helpers/tls.ts';

// TLS in a cluster: an encoder publishes to an origin over RTMPS, viewers play from an edge over
// HTTPS and RTMPS, and the edge's relay pull from the origin stays plain RTMP.

const SPEC = { durationS: 4, width: 320, height: 240, fps: 25, gop: 25 };

let cluster: Cluster;
let pki: TestPki;
let media: string;

before(async () => {
  [pki, media] = await Promise.all([makeTestPki(), makeTestFlv(SPEC)]);
  const tls = {
    rtmps: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey },
    https: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey },
  };
  cluster = await startCluster({
    origins: 1,
    edges: 1,
    originConfig: tls,
    edgeConfig: tls,
    env: { SLUICE_RTMPS_LISTEN: '127.0.0.1:0', SLUICE_HTTPS_LISTEN: '127.0.0.1:0' },
  });
});

after(async () => {
  await cluster?.stop();
});

test('RTMPS publish to an origin; HTTPS and RTMPS viewers on an edge; the relay between them is plain RTMP', async () => {
  const key = 'live/tls-cluster';
  const [origin] = cluster.origins;
  const [edge] = cluster.edges;
  assert.ok(origin?.rtmps && edge?.https && edge.rtmps, 'TLS listeners on both roles');
  const since = cluster.events.mark();
  const pub = publish(media, `${origin.rtmps}/${key}`, { loop: true, outputArgs: tlsVerifyArgs(pki.ca) });
  cluster.track(pub);
  const published = await cluster.events.waitFor(
    Subject.SessionStarted,
    (e) => e.key === key && e.kind === 'publisher',
    10_000,
    since,
  );
  assert.equal(published.protocol, 'rtmps');

  const verify = tlsVerifyArgs(pki.ca);
  const [https, rtmps] = await Promise.all([
    probe(`${edge.https}/${key}.flv`, { packets: true, readSeconds: 2, inputArgs: verify }),
    probe(`${edge.rtmps}/${key}`, { packets: true, readSeconds: 2, inputArgs: verify }),
  ]);
  for (const [name, p] of [
    ['https-flv', https],
    ['rtmps', rtmps],
  ] as const) {
    const v = p.streams.find((s) => s.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264', `${name}: video`);
    assert.equal(v?.width, SPEC.width, `${name}: width`);
    assert.ok(
      p.streams.some((s) => s.codec_name === 'aac'),
      `${name}: audio`,
    );
    const video = p.packets.filter((x) => x.stream_index === v!.index);
    assert.ok(video.length >= 25, `${name}: ${video.length} video packets`);
  }

  // The edge pulled over the origin's plain RTMP listener.
  const relay = await cluster.events.waitFor(
    Subject.SessionStarted,
    (e) => e.key === key && e.kind === 'relay',
    5000,
    since,
  );
  assert.equal(relay.protocol, 'rtmp');
  assert.equal(relay.nodeId, 'origin-1');
  assert.equal(await counter(origin.api, 'sluice_relay_pulls_started_total', { proto: 'rtmp' }), 1);
  assert.equal(await counter(origin.api, 'sluice_relay_pulls_started_total', { proto: 'rtmps' }), 0);
  for (const proto of ['https-flv', 'rtmps']) {
    const started = cluster.events
      .of(Subject.SessionStarted, since)
      .filter((e) => e.key === key && e.nodeId === 'edge-1' && e.kind === 'player' && e.protocol === proto);
    assert.equal(started.length, 1, `one ${proto} player session event from the edge`);
  }
  assertEventsValid(cluster);
});
