import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { COUNTERS } from '../../libs/metrics/catalog.ts';
import { publishTo, startCluster, type Cluster } from './helpers/cluster.ts';
import { parseExposition } from './helpers/exposition.ts';
import { httpFlv } from './helpers/flv-client.ts';
import { makeTestFlv } from './helpers/media.ts';
import { waitFor } from './helpers/sluice.ts';

// The Grafana dashboard (deploy/grafana/dashboards/sluice.json): a well-formed dashboard whose
// every query is valid PromQL (promtool parses it) and names only metrics that a running
// origin, edge and scheduler expose (or counters of the catalog, which appear at their first
// increment).

const FILE = new URL('../../deploy/grafana/dashboards/sluice.json', import.meta.url).pathname;

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
  time: { from: string; to: string };
}

const dash = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'gauge', 'table', 'bargauge', 'text']);
const queries = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

/** Grafana variables replaced by what they stand for, so promtool can parse the query. */
const concrete = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '1m').replace(/\$(role|instance)\b/g, '.*');

let cluster: Cluster | null = null;
after(async () => {
  await cluster?.stop();
});

test('the dashboard is a well-formed Grafana dashboard', () => {
  assert.equal(typeof dash.uid, 'string');
  assert.ok(dash.uid.length > 0 && dash.uid.length <= 40, 'uid of at most 40 characters');
  assert.equal(dash.title, 'Sluice');
  assert.ok(Number.isInteger(dash.schemaVersion) && dash.schemaVersion >= 36);
  assert.ok(dash.time.from && dash.time.to);
  const vars = new Set(dash.templating.list.map((v) => v.name));
  assert.deepEqual([...vars].sort(), ['datasource', 'instance', 'role']);
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `panel id ${p.id} unique`);
    ids.add(p.id);
    assert.ok(PANEL_TYPES.has(p.type), `${p.title}: panel type ${p.type}`);
    assert.ok(p.title, 'every panel has a title');
    const g = p.gridPos;
    assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.y >= 0 && g.h > 0, `${p.title}: inside 24 columns`);
    for (let x = g.x; x < g.x + g.w; x++)
      for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    if (p.type === 'row') {
      assert.equal(p.targets, undefined);
      continue;
    }
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
    const refs = p.targets.map((t) => t.refId);
    assert.equal(new Set(refs).size, refs.length, `${p.title}: refIds unique`);
    for (const t of p.targets) {
      assert.ok(t.expr.trim(), `${p.title}: ${t.refId} has an expression`);
      // Every media/scheduler query follows the role and instance selectors.
      for (const m of t.expr.matchAll(/\b(?:sluice|nodejs|process)_\w+(\{[^}]*\})?/g))
        assert.match(m[1] ?? '', /role=~"\$role", instance=~"\$instance"/, `${p.title}: ${m[0]}`);
    }
  }
  assert.ok(queries.length >= 30, `${queries.length} queries`);
});

test('every query parses as PromQL (promtool)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
  const file = join(dir, 'rules.yml');
  const rules = queries.map(
    (q, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(concrete(q.expr))}`,
  );
  writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  if (r.error) {
    t.skip('promtool is not installed');
    return;
  }
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`${queries.length} rules found`));
});

test('every query names only metrics a running origin, edge and scheduler expose', async () => {
  const media = await makeTestFlv({ durationS: 2, width: 320, height: 180, fps: 25, gop: 25 });
  cluster = await startCluster({ origins: 1, edges: 1, scheduler: true });
  const [origin, edge] = [cluster.origins[0]!, cluster.edges[0]!];
  // Enough activity that histograms with labels have series: a relay, a route, an ingest.
  cluster.track(await publishTo(origin, media, 'live/dash'));
  const viewer = httpFlv(`${edge.http}/live/dash.flv`);
  await waitFor(() => viewer.videoFrames().length > 0, 10_000, 'a viewer on the edge');
  const sched = cluster.scheduler!.url;
  await fetch(`${sched}/api/v1/route/live/dash?protocol=flv`);
  await fetch(`${sched}/api/v1/ingest/live/other`);
  const names = new Set(Object.keys(COUNTERS).map((k) => `sluice_${k}_total`));
  for (const url of [origin.api, edge.api, sched]) {
    const fams = parseExposition(await (await fetch(`${url}/metrics`)).text());
    for (const f of fams.values()) for (const s of f.samples) names.add(s.name);
  }
  viewer.stop();
  const missing: string[] = [];
  for (const q of queries)
    for (const m of q.expr.matchAll(/\b(?:sluice|nodejs|process)_\w+/g))
      if (!names.has(m[0])) missing.push(`${q.panel}: ${m[0]}`);
  assert.deepEqual(missing, []);
});
