import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keyOfGroup,
  keyPath,
  nodesFromScheduler,
  playUrl,
  streamsFromAllGroup,
  viewersByProtocol,
} from '../../../../services/node/console/model.js';

/** A row as model.js makes it (the module is untyped browser code). */
interface StreamRow {
  key: string;
  videoCodec: string;
  width: number | null;
  height: number | null;
  bitrateKbps: number | null;
  source: { kind: string } | null;
  viewers: [string, number][];
  viewerTotal: number;
}

// lal's documented /api/stat/all_group shape (pkg/base/t_http_api.go, StatGroup and StatSession).
const ALL_GROUP = {
  error_code: 0,
  desp: 'succ',
  data: {
    groups: [
      {
        stream_name: 'x',
        app_name: 'live',
        audio_codec: 'AAC',
        video_codec: 'H264',
        video_width: 320,
        video_height: 240,
        pub: {
          session_id: 'RTMPPUBSUB1',
          protocol: 'RTMP',
          base_type: 'PUB',
          remote_addr: '127.0.0.1:50000',
          start_time: '2026-01-02 10:00:00.000',
          read_bytes_sum: 1024,
          wrote_bytes_sum: 0,
          bitrate_kbits: 800,
          read_bitrate_kbits: 800,
          write_bitrate_kbits: 0,
        },
        subs: [{ protocol: 'FLV' }, { protocol: 'HLS' }, { protocol: 'FLV' }],
        pull: { session_id: '', protocol: '', base_type: '' },
        in_frame_per_sec: [],
      },
      {
        stream_name: 'a',
        app_name: 'edge',
        video_codec: 'H265',
        pub: { protocol: '' },
        pull: { protocol: 'RTMP', remote_addr: '10.0.0.1:1935', bitrate_kbits: 1500 },
        subs: [],
      },
    ],
  },
};

test('all_group: one row per group, sorted by key, lal placeholders read as absent', () => {
  const rows = streamsFromAllGroup(ALL_GROUP) as StreamRow[];
  assert.deepEqual(
    rows.map((r) => r.key),
    ['edge/a', 'live/x'],
  );
  const [edge, live] = rows;
  assert.equal(live!.videoCodec, 'H264');
  assert.equal(live!.width, 320);
  assert.equal(live!.height, 240);
  assert.equal(live!.bitrateKbps, 800);
  assert.deepEqual(live!.source, {
    id: 'RTMPPUBSUB1',
    protocol: 'RTMP',
    remote: '127.0.0.1:50000',
    since: '2026-01-02 10:00:00.000',
    bitrateKbps: 800,
    kind: 'publish',
  });
  assert.deepEqual(live!.viewers, [
    ['FLV', 2],
    ['HLS', 1],
  ]);
  assert.equal(live!.viewerTotal, 3);
  assert.equal(edge!.source!.kind, 'pull', 'no publisher: the relay pull is the source');
  assert.equal(edge!.width, null);
});

test('all_group: anything else is no rows, never a throw', () => {
  for (const body of [null, {}, { data: null }, { data: { groups: 'x' } }, { data: { groups: [null, 1] } }]) {
    assert.deepEqual(streamsFromAllGroup(body), []);
  }
});

test('keys: app_name/stream_name, unless the name carries the app', () => {
  assert.equal(keyOfGroup({ app_name: 'live', stream_name: 'x' }), 'live/x');
  assert.equal(keyOfGroup({ app_name: 'live', stream_name: 'live/x' }), 'live/x');
  assert.equal(keyOfGroup({ stream_name: 'x' }), 'x');
  assert.equal(keyPath('live/a b/<c>'), '/live/a%20b/%3Cc%3E');
});

test('viewers by protocol: most first', () => {
  assert.deepEqual(viewersByProtocol([{ protocol: 'TS' }, { protocol: 'RTMP' }, { protocol: 'RTMP' }, {}]), [
    ['RTMP', 2],
    ['?', 1],
    ['TS', 1],
  ]);
});

test('play URLs: the node HTTP port at the page host; the scheduler /play redirect', () => {
  const node = { kind: 'node', nodeId: 'n', media: { httpPort: 8080, httpsPort: 4433 } };
  const page = { protocol: 'http:', hostname: '[::1]' };
  assert.equal(playUrl(node, page, 'live/x', 'flv'), 'http://[::1]:8080/live/x.flv');
  assert.equal(
    playUrl(node, { protocol: 'https:', hostname: 'h' }, 'live/x', 'm3u8'),
    'https://h:4433/live/x.m3u8',
  );
  assert.equal(playUrl({ ...node, media: { httpPort: null, httpsPort: null } }, page, 'live/x', 'flv'), null);
  assert.equal(playUrl({ kind: 'scheduler', nodeId: 's' }, page, 'live/x', 'm3u8'), '/play/live/x.m3u8');
});

test('scheduler nodes: load and state', () => {
  const [n] = nodesFromScheduler({
    nodes: [
      {
        nodeId: 'edge-1',
        role: 'edge',
        draining: true,
        healthy: true,
        startedAt: 0,
        load: {
          publishers: 0,
          players: 3,
          relays: 1,
          cpuPercent: 12.5,
          bytesInPerSec: 1000,
          bytesOutPerSec: 3000,
        },
      },
    ],
  });
  assert.equal(n!.state, 'draining');
  assert.equal(n!.players, 3);
  assert.equal(n!.cpuPercent, 12.5);
});
