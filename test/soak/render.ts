/** `node --import tsx test/soak/render.ts report.json`: prints the markdown report of a soak's JSON report again. */
import { readFileSync } from 'node:fs';
import { markdownReport } from './report.ts';
import type { Judgement, SoakData } from './verdicts.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node --import tsx test/soak/render.ts REPORT.json\n');
  process.exit(2);
}
const { judgement, data } = JSON.parse(readFileSync(file, 'utf8')) as {
  judgement: Judgement;
  data: SoakData;
};
process.stdout.write(`${markdownReport(data, judgement)}\n`);
