import { EXPECTED_PROTOCOL_ERRORS, protocolErrors, type Judgement, type SoakData } from './verdicts.ts';
import type { ProcessSample } from './sampler.ts';
import { max, mean, round } from './stats.ts';

/** Rows of the over-time tables, at most. */
const MAX_ROWS = 16;
const MB = 1024 * 1024;

const mb = (x: number | null | undefined): string =>
  x === null || x === undefined ? '-' : (x / MB).toFixed(1);
const num = (x: number | null | undefined, d = 1): string =>
  x === null || x === undefined ? '-' : String(round(x, d));
const pct = (x: number | null): string =>
  x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Splits samples into at most MAX_ROWS consecutive buckets of equal count. */
function buckets<T>(xs: T[]): T[][] {
  const n = Math.max(1, Math.ceil(xs.length / MAX_ROWS));
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function overTime(name: string, samples: ProcessSample[], media: boolean): string {
  const rows = buckets(samples).map((b) => {
    const last = b[b.length - 1]!;
    const ok = b.filter((s) => s.ok);
    const lastOk = ok[ok.length - 1];
    const loop = max(ok.map((s) => s.loopP99Ms).filter((x): x is number => x !== null));
    const cpu = mean(ok.map((s) => s.cpuPercent).filter((x): x is number => x !== null));
    const row: (string | number)[] = [
      `${b[0]!.t}-${last.t}`,
      mb(lastOk?.rssBytes),
      mb(lastOk?.heapUsedBytes),
      mb(lastOk?.heapAfterGcBytes),
      num(loop),
      num(cpu, 0),
      b.length - ok.length,
    ];
    if (media) {
      const s = lastOk?.sessions ?? {};
      row.push(
        lastOk?.viewers ?? '-',
        `${s.publisher ?? '-'}/${s.player ?? '-'}/${s.relay ?? '-'}`,
        `${lastOk?.live ?? '-'}/${lastOk?.streams ?? '-'}`,
      );
    }
    return row;
  });
  const head = [
    't (s)',
    'RSS MB',
    'heapUsed MB',
    'heap after GC MB',
    'loop p99 ms (max)',
    'CPU % (mean)',
    'unanswered',
  ];
  if (media) head.push('hub viewers', 'sessions pub/player/relay', 'live/streams');
  return `### ${name}\n\n${table(head, rows)}\n`;
}

/** The human report: verdicts first, then what backs them. */
export function markdownReport(d: SoakData, j: Judgement): string {
  const out: string[] = [];
  const a = d.args;
  out.push(
    `# Sluice soak: ${a.minutes} min, ${a.viewers} viewers, ${a.streams}+1 streams, seed ${a.seed}\n`,
    `Load phase ${d.runS} s; samples every ${a.sampleS} s; warm-up ${round(j.windows.warmupS, 0)} s; ` +
      `memory baseline window ${j.windows.baseline.map((x) => round(x, 0)).join('-')} s, ` +
      `late window ${j.windows.late.map((x) => round(x, 0)).join('-')} s (medians compared; the heap is judged ` +
      `right after full GCs: sampled heapUsed mostly tells when V8 last collected).\n`,
    `**Result: ${j.pass ? 'PASS' : 'FAIL'}**\n`,
    disturbances(d),
    table(
      ['verdict', 'result', 'detail'],
      j.verdicts.map((v) => [v.name, v.pass === null ? 'not judged' : v.pass ? 'PASS' : 'FAIL', v.detail]),
    ),
    '',
    '## Processes\n',
    table(
      [
        'process',
        'RSS MB base -> late',
        'RSS growth',
        'heap MB base -> late',
        'heap growth',
        'heap read',
        'heapUsed MB base -> late (not judged)',
        'heapUsed growth',
        'loop p99 max ms',
        'CPU % mean',
        'unanswered',
      ],
      j.memory.map((m) => {
        const ss = d.series[m.process] ?? [];
        const cpu = mean(ss.map((s) => s.cpuPercent).filter((x): x is number => x !== null));
        return [
          m.process,
          `${mb(m.rss.baseline)} -> ${mb(m.rss.late)}`,
          pct(m.rss.growth),
          `${mb(m.heap.baseline)} -> ${mb(m.heap.late)}`,
          pct(m.heap.growth),
          m.heapBasis === 'sampled'
            ? 'sampled (no full GC in time)'
            : `after full GC${m.heap.baselineFromS === undefined ? '' : ` (baseline from ${m.heap.baselineFromS} s)`}`,
          `${mb(m.heapSampled?.baseline)} -> ${mb(m.heapSampled?.late)}`,
          m.heapSampled ? pct(m.heapSampled.growth) : '-',
          num(j.loopP99MaxMs[m.process] ?? null),
          num(cpu, 0),
          d.apiFailures[m.process] ?? 0,
        ];
      }),
    ),
    '',
    '## Over time\n',
    'Each row covers consecutive samples: memory and counts from the last answered sample, loop delay the max, CPU the mean (100 = one core).\n',
  );
  for (const [name, samples] of Object.entries(d.series)) {
    out.push(
      overTime(
        name,
        samples,
        samples.some((s) => s.sessions !== undefined),
      ),
    );
  }
  const load = buckets(d.load).map((b) => [
    `${b[0]!.t}-${b[b.length - 1]!.t}`,
    num(mean(b.map((l) => l.viewersConnected)), 0),
    num(mean(b.map((l) => l.hostCpuPercent).filter((x): x is number => x !== null)), 0),
  ]);
  out.push('### load\n', table(['t (s)', 'viewers connected (mean)', 'host CPU % of all cores'], load), '');
  out.push(countsTable(d));

  const v = d.viewers;
  out.push(
    '## Viewers\n',
    `Started ${v.started} (${Object.entries(v.startedBy)
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}).`,
    `Outcomes: ${fmt(v.outcomes)}. Stalled viewers cut by the edge: ${v.stalledCut}; unverified (run ended first): ${v.stalledUnverified}.`,
    `First key frame ms p50/p99/max: ${v.firstKeyFrameMs.p50}/${v.firstKeyFrameMs.p99}/${v.firstKeyFrameMs.max}. ` +
      `Longest silence per normal viewer ms p50/p99/max: ${v.normalMaxGapMs.p50}/${v.normalMaxGapMs.p99}/${v.normalMaxGapMs.max}. ` +
      `Viewers of missing keys refused after ms p50/max: ${v.notFoundMs.p50}/${v.notFoundMs.max}. ` +
      `Received ${v.bytesInMB} MB.`,
    `Problems: ${fmt(v.problems) || 'none'}${Object.keys(v.problemsByProto).length ? ` (by protocol: ${fmt(v.problemsByProto)}; by behaviour: ${fmt(v.problemsByBehaviour ?? {})})` : ''}.`,
    '',
  );
  for (const [k, ex] of Object.entries(v.examples)) {
    out.push(
      `- ${k}: ${ex.map((e) => `#${e.id} ${e.proto}/${e.behaviour} ${e.key} on ${e.edge} at ${e.atS} s (lived ${e.livedS} s, ${e.bytesIn} bytes): ${e.detail}`).join('; ')}`,
    );
  }
  const ab = d.aborts;
  out.push(
    '',
    '## Mid-handshake clients\n',
    `${ab.started} started (${fmt(ab.byMode)}). Hanging ones closed by the edge: ${ab.hangsClosed} ` +
      `(slowest ms: ${fmt(ab.hangCloseMaxMs)}); not closed in time: ${ab.hangsNotClosed}; unverified: ${ab.hangsUnverified}; ` +
      `connect errors: ${ab.connectErrors}${ab.lastError ? ` (last: ${ab.lastError})` : ''}.`,
    '',
    '## Publishers\n',
    table(
      ['key', 'publishes', 'restarts', 'by origin', 'accept ms max', 'release ms max', 'errors'],
      d.publishers.map((p) => [
        p.key,
        p.starts,
        p.restarts,
        fmt(p.byOrigin),
        num(max(p.acceptMs), 0),
        num(max(p.releaseMs), 0),
        fmt(p.errors as unknown as Record<string, number>),
      ]),
    ),
    '',
    ...d.publishers.flatMap((p) => p.examples.map((e) => `- ${e}`)),
    '',
    `Routes asked of the scheduler: ${d.route.routed} answered, ${d.route.errors} failed${d.route.lastError ? ` (last: ${d.route.lastError})` : ''}.`,
    '',
    '## Server counters at the end\n',
  );
  const pe = protocolErrors(d.counters);
  out.push(
    `Protocol errors: ${
      Object.entries(pe)
        .map(
          ([k, n]) =>
            `${k} ${n}${k in EXPECTED_PROTOCOL_ERRORS ? ` (expected: ${EXPECTED_PROTOCOL_ERRORS[k]})` : ' (UNEXPECTED)'}`,
        )
        .join(', ') || 'none'
    }.`,
    '',
  );
  const interesting =
    /^(viewer_|relay|play_|publish_|connections_|http_not_found|events_|nats_|claims_|ownership_)/;
  for (const [node, c] of Object.entries(d.counters)) {
    const shown = Object.entries(c).filter(([k]) => interesting.test(k));
    out.push(`- ${node}: ${shown.map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing notable'}`);
  }
  const sc = Object.entries(d.schedulerCounters).filter(([k]) =>
    /^scheduler_(internal|registry|reads_failed|presence_gaps|events_ignored)/.test(k),
  );
  out.push(`- scheduler: ${sc.map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing notable'}`, '');
  const warn = Object.entries(d.logs.warn).sort((x, y) => y[1] - x[1]);
  out.push(
    '## Logs and events\n',
    `Warnings (top 15 of ${warn.length} kinds): ${
      warn
        .slice(0, 15)
        .map(([k, n]) => `${k} x${n}`)
        .join('; ') || 'none'
    }.`,
    `Errors: ${fmt(d.logs.error) || 'none'}.`,
    `NATS events: ${d.logs.events.total} (${fmt(d.logs.events.bySubject)}); invalid on the wire ${d.logs.events.invalid}; dropped as invalid by nodes ${d.logs.unsentEvents}.`,
    '',
    '## End of run\n',
    `All viewers left: ${d.sessionsZero.reached ? `every count zero after ${d.sessionsZero.afterMs} ms` : `NOT zero after ${d.sessionsZero.afterMs} ms: ${d.sessionsZero.leftovers.join('; ')}`}.`,
    `Publishers stopped: ${d.streamsGone.reached ? `streams, sessions and claims gone after ${d.streamsGone.afterMs} ms` : `NOT gone after ${d.streamsGone.afterMs} ms: ${d.streamsGone.leftovers.join('; ')}`}.`,
    '',
  );
  return out.join('\n');
}

/** Own event-loop delay p99 of the load generator above this: it was starved, and so probably was the cluster. */
const STARVED_LOOP_MS = 250;

/**
 * When the load generator itself was starved (its event loop late by more than STARVED_LOOP_MS,
 * or a sampling period stretched to twice its length), the machine was too busy: errors and
 * delays then say more about the host than about Sluice. Listed, never excused: verdicts stay as
 * they are.
 */
function disturbances(d: SoakData): string {
  const self = d.series['soak (load generator)'] ?? [];
  const bad: string[] = [];
  for (let i = 0; i < self.length; i++) {
    const s = self[i]!;
    const gap = i > 0 ? s.t - self[i - 1]!.t : 0;
    if ((s.loopP99Ms ?? 0) > STARVED_LOOP_MS || gap > 2 * d.args.sampleS)
      bad.push(`${s.t} s (loop p99 ${num(s.loopP99Ms, 0)} ms, sample gap ${num(gap)} s)`);
  }
  const busy = d.load.filter((l) => (l.hostCpuPercent ?? 0) >= 99).length;
  const hostLine = `Host CPU at 99-100 % of all cores in ${busy} of ${d.load.length} samples.`;
  if (bad.length === 0) return `Load generator never starved. ${hostLine}\n`;
  return (
    `**Caveat:** the load generator was starved at ${bad.join('; ')}: the machine was overloaded then ` +
    `(other work on the shared host), so errors and delays around those times may come from the host, not Sluice. ${hostLine}\n`
  );
}

/**
 * The same viewers counted five ways, at the last sample of each row: by the soak, by the edges'
 * hubs, by the edges' session counts, and by the scheduler (heartbeat load, presence). A count
 * that stays above the others is a leak.
 */
function countsTable(d: SoakData): string {
  const sum = (t: number, names: string[], f: (s: ProcessSample) => number | undefined): number | string => {
    let n = 0;
    for (const name of names) {
      const s = d.series[name]?.find((x) => x.t === t && x.ok);
      const v = s ? f(s) : undefined;
      if (v === undefined) return '-';
      n += v;
    }
    return n;
  };
  const edges = Object.keys(d.series).filter((k) => k.startsWith('edge'));
  const origins = Object.keys(d.series).filter((k) => k.startsWith('origin'));
  const rows = buckets(d.load).map((b) => {
    const t = b[b.length - 1]!.t;
    const view = (d.schedulerView as SoakData['schedulerView'] | undefined)?.find((x) => x.t === t && x.ok);
    const load = view ? Object.entries(view.nodes).filter(([id]) => edges.includes(id)) : [];
    return [
      t,
      b[b.length - 1]!.viewersConnected,
      sum(t, edges, (s) => s.viewers),
      sum(t, edges, (s) => s.sessions?.player),
      view ? load.reduce((a, [, n]) => a + n.players, 0) : '-',
      view ? view.edgeViewers : '-',
      sum(t, origins, (s) => s.sessions?.relay),
      sum(t, origins, (s) => s.sessions?.publisher),
    ];
  });
  return `### counts\n\n${table(
    [
      't (s)',
      'soak viewers',
      'edge hub viewers',
      'edge sessions.player',
      'scheduler: edges load.players',
      'scheduler: edge presence viewers',
      'origin sessions.relay',
      'origin sessions.publisher',
    ],
    rows,
  )}\n`;
}

function fmt(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
