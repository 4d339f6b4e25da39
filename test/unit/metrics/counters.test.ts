import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { COUNTERS } from '../../../libs/metrics/catalog.ts';
import { Counters } from '../../../libs/metrics/counters.ts';
import { Metrics } from '../../../libs/metrics/metrics.ts';
import { parseExposition, promtoolCheck, valueOf } from '../../integration/helpers/exposition.ts';

test('inc/get by name and labels; snapshot is plain JSON', () => {
  const c = new Counters();
  c.inc('publish_started');
  c.inc('publish_started', 2);
  c.inc('play_started', 1, { proto: 'rtmp' });
  c.inc('play_started', 1, { proto: 'http-flv' });
  c.inc('play_started', 3, { proto: 'rtmp' });
  assert.equal(c.get('publish_started'), 3);
  assert.equal(c.get('play_started', { proto: 'rtmp' }), 4);
  assert.equal(c.get('play_started'), 0);
  assert.equal(c.get('nothing'), 0);
  assert.deepEqual(c.snapshot(), {
    play_started: [
      { labels: { proto: 'http-flv' }, value: 1 },
      { labels: { proto: 'rtmp' }, value: 4 },
    ],
    publish_started: 3,
  });
});

test('exposition: HELP and TYPE for each family, label values escaped, promtool agrees', async () => {
  const m = new Metrics({ processMetrics: true });
  const nasty = 'a"b\\c\nd';
  m.counters.inc('protocol_errors', 2, { proto: 'rtmp', code: nasty });
  m.counters.inc('publish_started');
  m.counters.inc('not_in_catalog', 1, { x: 'y' });
  m.gauge(
    'sluice_test_value',
    'A gauge.',
    (set) => {
      set(1, { k: 'v1' });
      set(2, { k: 'v2' });
    },
    ['k'],
  );
  m.histogram('sluice_test_seconds', 'A histogram.', ['op']).observe({ op: 'claim' }, 0.003);
  const text = await m.text();
  assert.match(text, /^sluice_protocol_errors_total\{proto="rtmp",code="a\\"b\\\\c\\nd"\} 2$/m);
  const fams = parseExposition(text);
  for (const f of fams.values()) {
    assert.ok(f.help.length > 0, `${f.name} has HELP`);
    assert.ok(f.type, `${f.name} has TYPE`);
  }
  assert.equal(valueOf(fams, 'sluice_protocol_errors_total', { code: nasty }), 2);
  assert.equal(fams.get('sluice_protocol_errors_total')!.help, COUNTERS.protocol_errors!.help);
  assert.equal(valueOf(fams, 'sluice_test_value', { k: 'v2' }), 2);
  assert.equal(valueOf(fams, 'sluice_test_seconds_count', { op: 'claim' }), 1);
  assert.equal(valueOf(fams, 'sluice_test_seconds_bucket', { op: 'claim', le: '0.005' }), 1);
  assert.equal(valueOf(fams, 'sluice_test_seconds_bucket', { op: 'claim', le: '0.0025' }), 0);
  assert.ok(fams.has('process_cpu_user_seconds_total'), 'prom-client process metrics');
  assert.ok(fams.has('nodejs_eventloop_lag_p99_seconds'), 'event-loop lag');
  const checked = promtoolCheck(text);
  if (checked) assert.ok(checked.ok, checked.output);
});

test('two registries in one process keep their own series', async () => {
  const a = new Metrics({ processMetrics: false });
  const b = new Metrics({ processMetrics: false });
  a.counters.inc('publish_started');
  assert.equal(valueOf(parseExposition(await a.text()), 'sluice_publish_started_total'), 1);
  assert.equal(valueOf(parseExposition(await b.text()), 'sluice_publish_started_total'), 0);
});

test('the catalog names every counter the code bumps, with its labels', () => {
  const src = execFileSync(
    'grep',
    ['-rhoE', "counters\\.inc\\(\\s*'[a-z_]+'(, [^,]+, \\{[^}]*\\})?", 'libs', 'services'],
    {
      encoding: 'utf8',
    },
  );
  const seen = new Set<string>();
  for (const m of src.matchAll(/counters\.inc\(\s*'([a-z_]+)'(?:, [^,]+, \{([^}]*)\})?/g)) {
    const name = m[1]!;
    seen.add(name);
    const spec = COUNTERS[name];
    assert.ok(spec, `${name} is in libs/metrics/catalog.ts`);
    for (const part of (m[2] ?? '').split(',')) {
      const label = part.split(':')[0]!.trim();
      if (label) assert.ok(spec.labels.includes(label), `${name} declares label ${label}`);
    }
  }
  assert.ok(seen.size > 40, `found ${seen.size} counters`);
});
