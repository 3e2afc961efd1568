import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cellText, describeFailure, executeNotebooks, joinText, notebookPaths, type Notebook, type NotebookRun } from '../src/cli/notebooks';
import { NOTEBOOKS, ROOT, VENV_PYTHON, TSLAB } from '../src/cli/project';
import { DEFAULT_PARAMS } from '../src/params/params';
import { runPipeline } from '../src/workflow/pipeline';
import { VEGALITE_MIME } from '../src/notebook/plots';
import { RunStore } from '../src/experiments/run-store';

/**
 * Executes every notebook (01-12) headless with the tslab kernel, exactly as `npm start`
 * does, into a fresh artifacts folder, and checks what a reader would see.
 */

const EXPECTED = [
  '01_simulate_traffic.ipynb',
  '02_preprocess.ipynb',
  '03_train_isolation_forest.ipynb',
  '04_predict.ipynb',
  '05_evaluate.ipynb',
  '06_visualize.ipynb',
  '07_save_model.ipynb',
  '08_streaming.ipynb',
  '09_real_traffic.ipynb',
  '10_explain_alerts.ipynb',
  '11_scale_out_redis.ipynb',
  '12_your_own_traffic.ipynb',
];

const work = mkdtempSync(join(tmpdir(), 'notebooks-'));
const artifacts = join(work, 'artifacts');
let runs: NotebookRun[] = [];
const executed: Record<string, Notebook> = {};

beforeAll(async () => {
  if (!existsSync(VENV_PYTHON) || !existsSync(TSLAB)) {
    throw new Error(`The notebook test needs the Python side and the kernel: run \`npm run setup\` first (missing ${VENV_PYTHON} or ${TSLAB}).`);
  }
  runs = await executeNotebooks({
    outDir: join(work, 'executed'),
    // a clean artifacts folder, and no parameter overrides from the developer's shell
    env: { ANOMALY_ARTIFACTS_DIR: artifacts, ANOMALY_PARAMS: '', ANOMALY_PARAMS_FILE: '' },
  });
  for (const r of runs) executed[r.notebook] = JSON.parse(readFileSync(r.output, 'utf8')) as Notebook;
}, 600_000);

const outputsOf = (nb: Notebook) => nb.cells.flatMap((c, i) => (c.outputs ?? []).map((o) => ({ cell: i, output: o })));
/** The cells of the row that starts with `first` in the text/plain table whose caption starts with `caption`, split on runs of 2+ spaces. */
const tableRow = (nb: Notebook, caption: string, first: string): string[] | undefined => {
  const table = outputsOf(nb)
    .map(({ output }) => joinText((output.data?.['text/plain'] as string | string[]) ?? ''))
    .find((t) => t.split('\n').some((l) => l.startsWith(caption)));
  const lines = table?.split('\n') ?? [];
  const from = lines.findIndex((l) => l.startsWith(caption));
  return lines.slice(from + 1).find((l) => l.trim().startsWith(`${first} `))?.trim().split(/\s{2,}/);
};
/** Every row that starts with `first` in that table (a table may repeat a first cell, e.g. one row per detector and prevalence). */
const tableRows = (nb: Notebook, caption: string, first: string): string[][] => {
  const table = outputsOf(nb)
    .map(({ output }) => joinText((output.data?.['text/plain'] as string | string[]) ?? ''))
    .find((t) => t.split('\n').some((l) => l.startsWith(caption)));
  const lines = table?.split('\n') ?? [];
  const from = lines.findIndex((l) => l.startsWith(caption));
  return lines.slice(from + 1).filter((l) => l.trim().startsWith(`${first} `)).map((l) => l.trim().split(/\s{2,}/));
};

describe('the notebooks run headless from a clean artifacts folder', () => {
  it('notebooks/ holds exactly the course, in order', () => {
    expect(notebookPaths().map((p) => p.split('/').pop())).toEqual(EXPECTED);
  });

  it('every notebook ran and every code cell executed with no error', () => {
    for (const r of runs) {
      expect(r.problems, `${r.notebook}: ${JSON.stringify(r.problems)}\n${r.error?.message ?? ''}`).toEqual([]);
      expect(r.ok, `${r.notebook}: ${r.error?.message ?? ''}`).toBe(true);
    }
    expect(runs.map((r) => r.notebook)).toEqual(EXPECTED);
    for (const [name, nb] of Object.entries(executed)) {
      for (const [i, cell] of nb.cells.entries()) {
        if (cell.cell_type !== 'code') continue;
        expect(cell.execution_count, `${name} cell ${i} was not executed`).toBeGreaterThan(0);
        for (const o of cell.outputs ?? []) expect(o.output_type, `${name} cell ${i}`).not.toBe('error');
      }
    }
  });

  it('the notebooks wrote every artifact into the clean folder', () => {
    const files = readdirSync(artifacts);
    for (const f of ['params.json', 'traffic.csv', 'preprocess.json', 'forest.json', 'predictions.json', 'metrics.json', 'model.json', 'stream-summary.json']) {
      expect(files, f).toContain(f);
    }
    // 06 eight figures (the last: F1 across recorded runs), 09 three (09-*), 10 three waterfalls (10-*), 12 two (timeline, episodes)
    const svgs = readdirSync(join(artifacts, 'figures')).filter((f) => f.endsWith('.svg'));
    expect(svgs.length).toBe(16);
    expect(svgs).toContain('runs-f1-contamination.svg');
    expect(svgs.filter((f) => f.startsWith('12-')).sort()).toEqual(['12-episodes.svg', '12-timeline.svg']);
    expect(svgs.filter((f) => f.startsWith('10-waterfall-')).sort()).toEqual(['10-waterfall-1.svg', '10-waterfall-2.svg', '10-waterfall-3.svg']);
    expect(files).toContain('nsl-kdd-model.json');
    expect(files).toContain('lab-flows-model.json');
  });

  it('each plot carries both the Vega-Lite and the SVG representation, in one output', () => {
    let plots = 0;
    for (const [name, nb] of Object.entries(executed)) {
      for (const { cell, output } of outputsOf(nb)) {
        const data = output.data ?? {};
        if (VEGALITE_MIME in data || 'image/svg+xml' in data) {
          plots++;
          expect(Object.keys(data), `${name} cell ${cell}`).toEqual(expect.arrayContaining([VEGALITE_MIME, 'image/svg+xml', 'text/plain']));
          expect(joinText(data['image/svg+xml'] as string | string[]), `${name} cell ${cell}`).toMatch(/^<svg/);
        }
      }
    }
    // 01 histograms, 02 PCA, 03 path lengths, 04 scores, 06 eight figures, 08 live timeline, 09 curves + families + PCA, 10 three waterfalls, 11 failover bars (redis-server is installed here), 12 timeline + episodes
    expect(plots).toBe(22);
    for (const name of ['01_simulate_traffic.ipynb', '02_preprocess.ipynb', '03_train_isolation_forest.ipynb', '04_predict.ipynb', '06_visualize.ipynb', '08_streaming.ipynb', '09_real_traffic.ipynb', '10_explain_alerts.ipynb', '11_scale_out_redis.ipynb', '12_your_own_traffic.ipynb']) {
      expect(outputsOf(executed[name]).some(({ output }) => VEGALITE_MIME in (output.data ?? {})), name).toBe(true);
    }
  });

  it("05 prints the library's classification report, character for character", () => {
    const nb = executed['05_evaluate.ipynb'];
    const cell = nb.cells.find((c) => joinText(c.source).trim() === 'const report = classificationReport(data.y, predictions);\nconsole.log(report);');
    expect(cell, 'the report cell of 05').toBeDefined();
    const expected = runPipeline(DEFAULT_PARAMS).metrics.report;
    expect(cellText(cell!)).toBe(`${expected}\n`);
  });

  it('08 reloaded the bundle 07 wrote (same checksum) and scored every streamed row', () => {
    const model = JSON.parse(readFileSync(join(artifacts, 'model.json'), 'utf8')) as { checksum: string };
    const summary = JSON.parse(readFileSync(join(artifacts, 'stream-summary.json'), 'utf8')) as {
      modelChecksum: string;
      expectedRows: number;
      totals: { rows: number; batches: number };
    };
    expect(summary.modelChecksum).toBe(model.checksum);
    expect(summary.expectedRows).toBe(DEFAULT_PARAMS.streamBatches * DEFAULT_PARAMS.streamBatchSize);
    expect(summary.totals.rows).toBe(summary.expectedRows);
    expect(summary.totals.batches).toBe(DEFAULT_PARAMS.streamBatches);
    const text = executed['08_streaming.ipynb'].cells.map(cellText).join('');
    expect(text).toContain(model.checksum.slice(0, 19));
    expect(text).toContain(`every streamed row was scored (${summary.expectedRows} of ${summary.expectedRows})`);
  });

  it('09 reads the shipped NSL-KDD files and shows what its prose claims', () => {
    const text = executed['09_real_traffic.ipynb'].cells.map(cellText).join('');
    expect(text).toContain('training file: ../data/nsl-kdd/KDDTrain+_20Percent.txt.gz (25,192 records)');
    expect(text).toContain('test file:     ../data/nsl-kdd/KDDTest+.txt.gz (22,544 records)');
    // per-feature scaling leaves the forest's scores unchanged (the prose says identical)
    expect(text).toMatch(/isolation forest, unscaled: ROC-AUC [0-9.]+; 0 of 22544 test scores differ/);
    const html = outputsOf(executed['09_real_traffic.ipynb'])
      .map(({ output }) => joinText((output.data?.['text/html'] as string | string[]) ?? ''))
      .join('');
    expect(html).toContain('Detection rate per family');
    expect(html).toContain('<td>R2L</td>');
    // the sparse-feature blind spot, as the prose reads it (seed 42, the default)
    const nb09 = executed['09_real_traffic.ipynb'];
    const sparse = (feature: string) => tableRow(nb09, 'Sparse features:', feature);
    const unseen = (column: string) => tableRow(nb09, 'Test records with a category unseen', column);
    const row = (feature: string) => sparse(feature);
    expect(row('num_failed_logins')).toEqual(['num_failed_logins', '12 of 13,449', '0.23', '3 of 100', 'guess_passwd 467 of 1,231 (29 flagged); buffer_overflow 2 of 20 (2 flagged)', 'normal 5 of 9,711 (0 flagged)']);
    expect(row('land')).toEqual(['land', '1 of 13,449', '0.02', '0 of 100', 'land 7 of 7 (7 flagged)', 'none']);
    expect(row('wrong_fragment')?.slice(1, 4)).toEqual(['0 of 13,449', '0.00', '0 of 100']);
    expect(row('wrong_fragment')?.[5]).toBe('normal 52 of 9,711 (35 flagged)');
    // categories never seen in normal training: nearly all attacks, most flagged anyway, 23 attacks not
    expect(unseen('any column')).toEqual(['any column', '1,754', '1,749', '1,730', '23']);
    expect(unseen('service')?.slice(0, 5)).toEqual(['service', '1,682', '1,678', '1,658', '23']);
    // label noise: snmpgetattack records identical to normal ones; src_bytes ranges
    expect(tableRow(nb09, 'Attack records identical', 'snmpgetattack')).toEqual(['snmpgetattack', '178', '54']);
    // thresholds set on held-out normal training records: the test's normal traffic does not land on the targets
    expect(tableRow(nb09, 'Thresholds set on 4,035 held-out', '1%')).toEqual(['1%', '0.99%', '1.43% ± 0.28', '54.1%', '68.1%', '75.7%', '0.5%', '10.0%', '51.3%']);
    expect(tableRow(nb09, 'Thresholds set on 4,035 held-out', '5%')).toEqual(['5%', '4.98%', '2.55% ± 0.08', '64.2%', '76.7%', '95.0%', '3.2%', '62.1%', '72.7%']);
    const ranges = (set: string) => tableRow(nb09, 'src_bytes', set);
    expect(ranges('its normal records')).toEqual(['its normal records', '13449', '0', '7665876', 'normal', '12779', '240']);
    expect(ranges('KDDTrain+_20Percent')?.slice(3, 5)).toEqual(['381709090', 'portsweep']);
    // baselines on the validation split: the rule covers R2L, labels buy the known names, not the novel ones
    const base = (d: string) => tableRow(nb09, 'Detection on KDDTest+ with thresholds set at 1%', d);
    expect(base('isolation forest (normal records)')).toEqual(['isolation forest (normal records)', 'no', '0.947', '0.99%', '0.95%', '52.4%', '66.2%', '72.2%', '0.4%', '12.5%', '59.1%', '36.0%']);
    expect(base('rule: num_failed_logins > 0')).toEqual(['rule: num_failed_logins > 0', 'no', '0.02%', '0.05%', '3.7%', '0.0%', '0.0%', '17.1%', '1.5%', '5.2%', '0.1%']);
    expect(base('forest or either rule')?.slice(-7)).toEqual(['58.3%', '68.3%', '77.7%', '17.4%', '13.0%', '66.1%', '39.3%']);
    expect(base('logistic regression (labelled records)')).toEqual(['logistic regression (labelled records)', 'yes', '0.777', '0.99%', '7.43%', '60.4%', '78.6%', '73.3%', '2.6%', '19.5%', '75.3%', '24.3%']);
    // base rates: the same forest at 1% and 0.1% attacks in a million connections a day
    const rates = (d: string) => tableRows(nb09, 'The rates above at 1,000,000 connections a day', d);
    expect(rates('isolation forest (normal records)')).toEqual([
      ['isolation forest (normal records)', '56.9%', '569,242', '302,209', '298,128', '4,081', '98.6%'],
      ['isolation forest (normal records)', '1.0%', '10,000', '14,616', '5,237', '9,379', '35.8%'],
      ['isolation forest (normal records)', '0.1%', '1,000', '9,988', '524', '9,464', '5.2%'],
    ]);
    expect(rates('logistic regression (labelled records)')[2]).toEqual(['logistic regression (labelled records)', '0.1%', '1,000', '74,878', '604', '74,274', '0.8%']);
    expect(rates('rule: service or flag unseen in normal training')[2]?.slice(3)).toEqual(['651', '137', '514', '21.0%']);
    // 09 and 10 show the forest's parameters, not the simulation's
    const params09 = tableRow(nb09, 'Experiment parameters used here', 'seed');
    expect(params09).toEqual(['seed', '42', 'nEstimators', '100', 'maxSamples', '"auto"']);
    expect(text).not.toContain('nNormal');
    expect(text).toMatch(/recorded run \d{8}-\d{6}-[0-9a-f]{6} in .*runs\.ndjson/);
  });

  it('03 separates subsampling from the other differences of ml-isolation-forest', () => {
    const nb03 = executed['03_train_isolation_forest.ipynb'];
    const row = (m: string) => tableRow(nb03, 'Three forests on the same 10500 scaled rows', m);
    expect(row('this library')?.slice(0, 6)).toEqual(['this library', '256', '8', '1.00000', '0.99997', '1']);
    expect(row('this library, all rows per tree')?.slice(0, 6)).toEqual(['this library, all rows per tree', '10500', '14', '0.99772', '0.94854', '0.91200']);
    expect(row('ml-isolation-forest')?.slice(0, 6)).toEqual(['ml-isolation-forest', '10500', '15', '0.99742', '0.94179', '0.90600']);
  });

  it('10 checks one explanation by hand and shows the drivers of the top alerts', () => {
    const text = executed['10_explain_alerts.ipynb'].cells.map(cellText).join('');
    // E[f] + contributions reproduce the forest's score, printed to 15 digits
    const byHand = /-2\^\(-f\(x\) \/ c\)\s+(-0\.\d{15})/.exec(text);
    const fromForest = /forest\.scoreSamples\s+(-0\.\d{15})/.exec(text);
    expect(byHand, 'the hand-checked score').not.toBeNull();
    expect(byHand![1]).toBe(fromForest![1]);
    const difference = Number(/difference\s+(\S+)/.exec(text)![1]);
    expect(difference).toBeLessThan(1e-12);
    expect(text).toMatch(/alerts on KDDTest\+: [\d,]+ of 22,544 records/);
    const html = outputsOf(executed['10_explain_alerts.ipynb'])
      .map(({ output }) => joinText((output.data?.['text/html'] as string | string[]) ?? ''))
      .join('');
    expect(html).toContain('their top three features');
    expect(html).toMatch(/<td>flag = S0 \(-\d\.\d\d\)<\/td>/);
    expect(html).toContain('normal (false alarms)');
    // flag's credit does not come from more splits: its 10 columns take 1.5x an average feature's share, service's 23 take 4.6x
    const usage = (feature: string) => tableRow(executed['10_explain_alerts.ipynb'], 'How often the 100 trees split', feature);
    expect(usage('flag')).toEqual(['flag', '10', '79 of 100', '127', '3.27%']);
    expect(usage('service')).toEqual(['service', '23', '100 of 100', '398', '10.25%']);
    expect(usage('average of the 38 one-column features')?.[4]).toBe('2.21%');
    const serror = ['serror_rate', 'srv_serror_rate', 'dst_host_serror_rate', 'dst_host_srv_serror_rate'].map((f) => Number(usage(f)?.[3]));
    expect(serror.reduce((a, b) => a + b, 0)).toBe(282); // 7.26% of the 3,884 splits (127 / 3.27%)
  });

  it('12 reads the lab captures into flows and shows what its prose claims', () => {
    // printed lines and the text of the tables (showTable's text/plain)
    const text = executed['12_your_own_traffic.ipynb'].cells
      .flatMap((c) => (c.outputs ?? []).map((o) => (o.output_type === 'stream' ? joinText(o.text) : joinText((o.data?.['text/plain'] as string | string[] | undefined) ?? ''))))
      .join('\n');
    expect(text).toContain('../data/lab/normal.pcap.gz (pcap, gzip): 19,630 packets -> 924 flows');
    expect(text).toContain('../data/lab/mixed.pcap.gz (pcap, gzip): 58,114 packets -> 8,209 flows');
    expect(text).toMatch(/packets read 19,630 = used 19,602 \+ skipped 28 \(not-ip 28\)/);
    // the default model: every episode at least 96% at 1% validation FPR (the prose says so), 2.3% of normal flows
    const table = text.slice(text.indexOf('source + log1p, threshold at 1%'));
    for (const episode of ['syn-scan', 'version-scan', 'syn-flood', 'brute-force', 'slow-http', 'exfiltration']) {
      const m = new RegExp(`${episode}\\s+\\d+\\s+([\\d.]+)% \\(min`).exec(table);
      expect(m, episode).not.toBeNull();
      expect(Number(m![1]), episode).toBeGreaterThanOrEqual(96);
    }
    expect(table).toMatch(/normal flows flagged\s+693\s+2\.3%/);
    expect(text).toContain('(reached 0.7% there)');
    // the comparison's claims: windows flag more than a third of normal flows and miss the exfiltration;
    // per-flow statistics miss the scans and the flood
    expect(text).toMatch(/\n\s+window\s+26\s+[\d.]+\s+3[3-9]\.\d%\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%\s+0\.0%/);
    expect(text).toMatch(/\n\s+flow\s+57\s+[\d.]+\s+[\d.]+%\s+0\.0%\s+[\d.]+%\s+0\.0%/);
    expect(text).toContain('source = src_count, src_serror_rate, src_rerror_rate, src_dst_port_count, bidirectional_bytes');
    expect(text).toMatch(/exfiltration \(1 of 1 flagged\)\s+bidirectional_bytes/);
    expect(text).toMatch(/model bundle: \S*lab-flows-model\.json/);
  });

  it('11 ran the Redis failover drill: a consumer SIGKILLed holding entries, every record accounted for, none lost', () => {
    const text = executed['11_scale_out_redis.ipynb'].cells.map(cellText).join('');
    // a system redis-server >= 7, or the embedded valkey-server npm run setup installed
    expect(text).toMatch(/(redis-server \S+ \(installed on this machine\)|valkey-server \S+ \(Redis-compatible, installed into \.venv by npm run setup\)): the drill below runs/);
    expect(text).toContain('published 50,000 records in 500 entries');
    expect(text).toMatch(/SIGKILL to consumer a [\d.]+ s in, after \d+ finished entries, holding [1-9]\d* unacknowledged entries/);
    expect(text).toContain('the group drained: 0 entries pending, lag 0');
    expect(text).toContain('none lost: 50,000 scored + 0 rejected + 0 dead-lettered = 50,000 published; nothing pending, lag 0');
  });

  it('05 and 06 recorded their runs: 05 its metrics, 06 both sweeps, shown as a run table and a chart across runs', () => {
    const log = new RunStore(artifacts).read();
    // 09 and 12 record their five-seed evaluations, on files
    for (const [label, files] of [['09_real_traffic', 2], ['12_your_own_traffic', 3]] as const) {
      const [r] = log.runs.filter((x) => x.label === label);
      expect(r?.data?.kind, label).toBe('files');
      expect(r?.data?.kind === 'files' ? r.data.files.length : 0, label).toBe(files);
      expect(r?.metrics.rocAuc, label).toBeGreaterThan(0.9);
    }
    expect(log.skipped).toEqual({ 'not-json': 0, 'not-a-run': 0, 'other-version': 0 });
    const n05 = log.runs.filter((r) => r.label === '05_evaluate');
    expect(n05).toHaveLength(1);
    const metrics = JSON.parse(readFileSync(join(artifacts, 'metrics.json'), 'utf8')).metrics;
    expect(n05[0].metrics.f1).toBe(metrics.f1);
    expect(n05[0].model?.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(executed['05_evaluate.ipynb'].cells.map(cellText).join('')).toContain(`recorded run ${n05[0].id} in `);
    const sweeps = log.runs.filter((r) => r.label === '06_visualize');
    expect(sweeps).toHaveLength(6 + 8);
    const nb06 = executed['06_visualize.ipynb'];
    const plain = outputsOf(nb06).map(({ output }) => joinText((output.data?.['text/plain'] as string | string[]) ?? '')).join('\n');
    expect(plain).toMatch(/6 runs in .*runs\.ndjson, newest first \(parameters that differ: contamination\)/);
    // the chart: the 6 contamination runs and 05's run (the tree sweep holds contamination fixed)
    expect(plain).toContain('[chart: f1 against contamination, across 7 recorded runs]');
  });

  it('07 shows the size and checksum of the bundle it wrote', () => {
    const model = JSON.parse(readFileSync(join(artifacts, 'model.json'), 'utf8')) as { checksum: string };
    const html = outputsOf(executed['07_save_model.ipynb'])
      .map(({ output }) => joinText((output.data?.['text/html'] as string | string[]) ?? ''))
      .join('');
    expect(html).toContain(model.checksum);
    expect(html).toContain('size (KB)');
  });
});

describe('the lab route: an override in 01\'s first cell flows through 02-08 with no other notebook edited', () => {
  // a copy of the course beside links to the compiled library and the packages, as the notebooks expect ('../dist')
  const course = mkdtempSync(join(tmpdir(), 'lab-route-'));
  const nbDir = join(course, 'notebooks');
  const labArtifacts = join(course, 'artifacts');
  let labRuns: NotebookRun[] = [];
  // the simulated-traffic course: 09 onwards work on real traffic and take no part in this route
  const LAB_ROUTE = EXPECTED.filter((name) => name < '09');

  beforeAll(async () => {
    mkdirSync(nbDir);
    symlinkSync(join(ROOT, 'dist'), join(course, 'dist'));
    symlinkSync(join(ROOT, 'node_modules'), join(course, 'node_modules'));
    for (const name of LAB_ROUTE) copyFileSync(join(NOTEBOOKS, name), join(nbDir, name));
    const first = join(nbDir, LAB_ROUTE[0]);
    const nb = JSON.parse(readFileSync(first, 'utf8')) as Notebook;
    const cell = nb.cells.find((c) => c.cell_type === 'code')!;
    const source = joinText(cell.source);
    // exactly the edit the notebooks suggest to a learner
    const edited = source.replace('notebookSetup()', 'notebookSetup({ overrides: { anomalyMean: 2.5 } })');
    if (edited === source) throw new Error(`01's first code cell has no notebookSetup() call to edit:\n${source}`);
    cell.source = edited;
    writeFileSync(first, JSON.stringify(nb));
    labRuns = await executeNotebooks({
      notebooks: notebookPaths(nbDir),
      outDir: join(course, 'executed'),
      env: { ANOMALY_ARTIFACTS_DIR: labArtifacts, ANOMALY_PARAMS: '', ANOMALY_PARAMS_FILE: '' },
    });
  }, 900_000);

  it('all the notebooks run', () => {
    for (const r of labRuns) expect(r.ok, describeFailure(r)).toBe(true);
    expect(labRuns.map((r) => basename(r.notebook))).toEqual(LAB_ROUTE);
  });

  it('the saved model carries anomalyMean 2.5, and 08 streamed with it', () => {
    const model = JSON.parse(readFileSync(join(labArtifacts, 'model.json'), 'utf8')) as { params: { anomalyMean: number } };
    expect(model.params.anomalyMean).toBe(2.5);
    const summary = JSON.parse(readFileSync(join(labArtifacts, 'stream-summary.json'), 'utf8')) as { modelChecksum: string };
    expect(summary.modelChecksum).toBe((JSON.parse(readFileSync(join(labArtifacts, 'model.json'), 'utf8')) as { checksum: string }).checksum);
  });

  it('each later notebook says in its parameter table that it adopted the value', () => {
    for (const r of labRuns.slice(1)) {
      const nb = JSON.parse(readFileSync(r.output, 'utf8')) as Notebook;
      const html = nb.cells
        .flatMap((c) => c.outputs ?? [])
        .map((o) => joinText((o.data?.['text/html'] as string | string[]) ?? ''))
        .find((h) => h.includes('Experiment parameters'));
      expect(html, r.notebook).toMatch(/\(the run of 0\d_[a-z_]+\.ipynb\)/);
      expect(html, r.notebook).toContain('2.5 * (default 5)');
    }
  });
});

describe('a broken notebook fails the run with the notebook and the cell named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'broken-'));
  const write = (name: string, sources: string[]) => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      cells: sources.map((source, i) => ({ id: `c${i}`, cell_type: 'code', source, metadata: {}, execution_count: null, outputs: [] })),
    };
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(nb));
    return path;
  };

  it('a cell that throws', async () => {
    const path = write('90_throws.ipynb', ["console.log('fine')", "throw new Error('broken on purpose')", "console.log('never')"]);
    const [run] = await executeNotebooks({ notebooks: [path], outDir: join(dir, 'out') });
    expect(run.ok).toBe(false);
    expect(run.error?.cell).toBe(1);
    const text = describeFailure(run);
    expect(text).toContain('90_throws.ipynb failed');
    expect(text).toContain('in cell 1');
    expect(text).toContain('broken on purpose');
    expect(run.problems.map((p) => p.cell)).toEqual([1, 2]); // 2: left unexecuted
  }, 120_000);

  it('a crashed kernel', async () => {
    const path = write('91_crash.ipynb', ["console.log('fine')", 'process.exit(3)']);
    const [run] = await executeNotebooks({ notebooks: [path], outDir: join(dir, 'out') });
    expect(run.ok).toBe(false);
    expect(run.error?.kind).toBe('kernel died');
    expect(run.error?.cell).toBe(1);
    expect(run.problems[0]).toMatchObject({ cell: 1, problem: 'not executed (no execution count)' });
  }, 120_000);
});
