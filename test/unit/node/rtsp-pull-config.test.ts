import { test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../libs/config/load.ts';
import { checkRtspPulls, pickTracks } from '../../../services/node/rtsp/pull.ts';
import type { RtspClientTrack, TrackCodec } from '../../../libs/rtsp/index.ts';
import { loadStandaloneConfig } from '../../../services/standalone/config.ts';

const pull = (key: string, url: string) => ({ key, url, transport: 'tcp' as const, timeoutMs: 10000 });

test('rtsp.pulls: keys are stream keys, URLs parse, a key is pulled once; passwords stay out of errors', () => {
  checkRtspPulls([pull('live/a', 'rtsp://u:p@h/x'), pull('live/b', 'rtsps://h:322/y')]);
  for (const [pulls, want] of [
    [[pull('nokey', 'rtsp://h/x')], /rtsp.pulls\[0\].key/],
    [[pull('live/../x', 'rtsp://h/x')], /rtsp.pulls\[0\].key/],
    [[pull('live/a', 'rtsp://h/x'), pull('live/a', 'rtsp://h/y')], /pulled twice/],
    [[pull('live/a', 'rtsp://u:secret@bad host/x')], /rtsp.pulls\[0\].url/],
  ] as const) {
    assert.throws(
      () => checkRtspPulls(pulls),
      (e: unknown) => e instanceof ConfigError && want.test(e.message) && !e.message.includes('secret'),
    );
  }
});

test('rtsp.pulls in the schema: defaults applied, other schemes refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pull-'));
  const file = (cfg: object): string => {
    const p = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(cfg));
    return p;
  };
  assert.deepEqual(loadStandaloneConfig(file({}), {}).rtsp?.pulls, []);
  const cfg = loadStandaloneConfig(file({ rtsp: { pulls: [{ key: 'live/a', url: 'rtsp://h/x' }] } }), {});
  assert.deepEqual(cfg.rtsp?.pulls, [
    { key: 'live/a', url: 'rtsp://h/x', transport: 'tcp', timeoutMs: 10000 },
  ]);
  assert.throws(
    () => loadStandaloneConfig(file({ rtsp: { pulls: [{ key: 'live/a', url: 'http://h/x' }] } }), {}),
    ConfigError,
  );
});

test('pickTracks: the first H.264/H.265 track and the first AAC track', () => {
  const t = (index: number, codec: TrackCodec['codec']): RtspClientTrack => ({
    index,
    media: {} as RtspClientTrack['media'],
    codec: { codec } as TrackCodec,
    url: '',
  });
  assert.deepEqual(
    pickTracks([t(0, 'unsupported'), t(1, 'aac'), t(2, 'h265'), t(3, 'h264'), t(4, 'aac')]),
    [2, 1],
  );
  assert.deepEqual(pickTracks([t(0, 'unsupported')]), []);
});
