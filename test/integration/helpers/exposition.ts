import { spawnSync } from 'node:child_process';

/** One sample of a Prometheus text exposition, label values unescaped. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', ''],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  untyped: [''],
};

/**
 * A strict parser of the text format 0.0.4: every family has HELP then TYPE before its samples,
 * sample names belong to the family just declared, label values use only the three escapes
 * (\\, \", \n), no family is declared twice. Throws with the line number on anything else.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('exposition must end with a newline');
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      const m = /^# HELP (\S+) (.*)$/.exec(line) ?? fail('bad HELP');
      const name = m[1]!;
      if (!NAME.test(name)) fail('bad metric name');
      if (families.has(name)) fail('family declared twice');
      current = { name, help: unescapeHelp(m[2]!), type: '', samples: [] };
      families.set(name, current);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line) ?? fail('bad TYPE');
      if (!current || current.name !== m[1] || current.type) fail('TYPE without its HELP');
      current!.type = m[2]!;
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line) ?? fail('bad sample');
    const fam: Family = current ?? fail('sample before any HELP/TYPE');
    if (!fam.type) fail('sample before TYPE');
    const name = m[1]!;
    if (!SUFFIXES[fam.type]!.some((s) => name === fam.name + s)) fail(`sample not of family ${fam.name}`);
    const labels = m[2] ? parseLabels(m[2], fail) : {};
    const raw = m[3]!;
    // Prometheus parses values with Go's ParseFloat: Inf and NaN in any case (prom-client writes "Nan").
    const special = /^([+-]?)(inf|nan)$/i.exec(raw);
    const value = special
      ? special[2]!.toLowerCase() === 'nan'
        ? NaN
        : special[1] === '-'
          ? -Infinity
          : Infinity
      : Number(raw);
    if (!special && (raw.trim() === '' || Number.isNaN(value))) fail('bad value');
    fam.samples.push({ name, labels, value });
  });
  return families;
}

function parseLabels(src: string, fail: (why: string) => never): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 1;
  const end = src.length - 1;
  while (i < end) {
    const eq = src.indexOf('=', i);
    if (eq < 0) fail('label without =');
    const name = src.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${name}`);
    if (src[eq + 1] !== '"') fail('label value not quoted');
    let j = eq + 2;
    let value = '';
    for (;;) {
      if (j >= end) fail('unterminated label value');
      const ch = src[j]!;
      if (ch === '"') break;
      if (ch === '\n') fail('raw newline in label value');
      if (ch === '\\') {
        const next = src[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(`bad escape \\${next}`);
        j += 2;
        continue;
      }
      value += ch;
      j++;
    }
    if (name in out) fail(`label ${name} twice`);
    out[name] = value;
    i = j + 1;
    if (src[i] === ',') i++;
    else if (i !== end) fail('labels not separated by ,');
  }
  return out;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** The sum of the samples of `name` whose labels include `labels`. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}

/**
 * `promtool check metrics` on `text` (Debian's prometheus package), or null when promtool is
 * missing. Parse errors always count; of the lint findings, those about prom-client's own
 * default `nodejs_active_*_total` gauges (a naming choice of the library) are left out.
 */
export function promtoolCheck(text: string): { ok: boolean; output: string } | null {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) return null;
  const findings = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter(
      (l) =>
        l.trim() && !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l),
    );
  return { ok: findings.length === 0, output: findings.join('\n') };
}
