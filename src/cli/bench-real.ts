/**
 * `npm run bench:real`: our Isolation Forest against scikit-learn's on the same
 * encoded NSL-KDD features. Each protocol variant is prepared once here
 * (encoder + scaler fitted on the training rows), the matrices are written to a
 * temporary directory and read by scripts/bench_real_sklearn.py, and both
 * forests are fitted with the same seeds. Prints the two side by side with fit
 * and score times and writes artifacts/bench-real.json.
 *
 *   npm run bench:real -- [--data DIR] [--seeds N]
 *
 * Exit codes: 0 done and our mean ROC-AUC is at least scikit-learn's - 0.01 in
 * every variant, 3 a variant is below that floor, 2 bad usage, 4 data files
 * unreadable, 1 scikit-learn unavailable or another failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { FileReadError } from '../data/textfile';
import { FlowFormatError, type FlowRecords } from '../data/flows';
import { loadNslKdd, NSL_KDD_DATA_DIR } from '../data/nslkdd-files';
import { textTable, type TableRow } from '../notebook/tables';
import { Workspace } from '../persist/workspace';
import { fitAndScoreTest, prepareRealTraffic, REAL_TRAFFIC_FOREST, scoreMetrics, spread, type RealTrafficOptions } from '../workflow/real-traffic';
import { ROOT, VENV_PYTHON } from './project';
import { benchPythonReady } from './setup';

/** The variants the issue gives scikit-learn figures for. */
export const BENCH_VARIANTS: ReadonlyArray<{ name: string; options: Required<RealTrafficOptions> }> = [
  { name: 'normal-only, one-hot, log1p', options: { trainOn: 'normal', encoding: 'onehot', log1p: true } },
  { name: 'normal-only, ordinal, log1p', options: { trainOn: 'normal', encoding: 'ordinal', log1p: true } },
  { name: 'normal-only, one-hot', options: { trainOn: 'normal', encoding: 'onehot', log1p: false } },
  { name: 'all records, one-hot', options: { trainOn: 'all', encoding: 'onehot', log1p: false } },
  { name: 'all records, ordinal', options: { trainOn: 'all', encoding: 'ordinal', log1p: false } },
];

interface SklearnSeed {
  seed: number;
  rocAuc: number;
  averagePrecision: number;
  fitSeconds: number;
  scoreSeconds: number;
}

const bytes = (a: Float64Array | Int8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const f3 = (v: number) => v.toFixed(3);

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { data: { type: 'string' }, seeds: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`bench:real: ${(e as Error).message.split('\n')[0]}`);
    return 2;
  }
  if (values.help) {
    console.log('usage: npm run bench:real -- [--data DIR (default data/nsl-kdd)] [--seeds N (default 5)]');
    return 0;
  }
  const nSeeds = values.seeds === undefined ? 5 : Number(values.seeds);
  if (!Number.isInteger(nSeeds) || nSeeds < 1 || nSeeds > 100) {
    console.error(`bench:real: --seeds must be an integer from 1 to 100, got ${JSON.stringify(values.seeds)}`);
    return 2;
  }
  const seeds = Array.from({ length: nSeeds }, (_, k) => k);
  let files: { train: FlowRecords; test: FlowRecords };
  try {
    files = loadNslKdd(values.data ?? NSL_KDD_DATA_DIR);
  } catch (e) {
    if (e instanceof FileReadError || e instanceof FlowFormatError) {
      console.error(`bench:real: ${e.message}`);
      return 4;
    }
    throw e;
  }
  const why = benchPythonReady('bench:real', 'sklearn, numpy');
  if (why) {
    console.error(`bench:real: ${why}`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'netflow-bench-real-'));
  try {
    const manifest = { seeds, nEstimators: REAL_TRAFFIC_FOREST.nEstimators, contamination: REAL_TRAFFIC_FOREST.contamination, variants: [] as unknown[] };
    const ours: Record<string, { rocAuc: number[]; averagePrecision: number[]; fitSeconds: number[]; scoreSeconds: number[]; cols: number }> = {};
    BENCH_VARIANTS.forEach((v, k) => {
      const prepared = prepareRealTraffic(files.train, files.test, v.options);
      const paths = { train: join(dir, `train-${k}.f64`), test: join(dir, `test-${k}.f64`), y: join(dir, `y-${k}.i8`) };
      writeFileSync(paths.train, bytes(prepared.trainX.data));
      writeFileSync(paths.test, bytes(prepared.testX.data));
      writeFileSync(paths.y, bytes(files.test.y));
      manifest.variants.push({ name: v.name, cols: prepared.trainX.cols, ...paths });
      const r = (ours[v.name] = { rocAuc: [] as number[], averagePrecision: [] as number[], fitSeconds: [] as number[], scoreSeconds: [] as number[], cols: prepared.trainX.cols });
      for (const seed of seeds) {
        const s = fitAndScoreTest(prepared, seed);
        const m = scoreMetrics(files.test, s.testScores, s.forest.offset, []);
        r.rocAuc.push(m.rocAuc);
        r.averagePrecision.push(m.averagePrecision);
        r.fitSeconds.push(s.fitMs / 1000);
        r.scoreSeconds.push(s.scoreMs / 1000);
      }
      console.log(`  ${v.name}: ${prepared.trainX.cols} features, ours done`);
    });
    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const py = spawnSync(VENV_PYTHON, [join(ROOT, 'scripts', 'bench_real_sklearn.py'), '--manifest', manifestPath], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (py.status !== 0) {
      console.error(`bench:real: scripts/bench_real_sklearn.py failed (exit ${py.status}): ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}`);
      return 1;
    }
    const ref = JSON.parse(py.stdout) as { version: string; variants: Record<string, SklearnSeed[]> };
    const rows: TableRow[] = [];
    const results: Record<string, unknown>[] = [];
    let below = 0;
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    for (const v of BENCH_VARIANTS) {
      const o = ours[v.name];
      const s = ref.variants[v.name];
      const oAuc = spread(o.rocAuc);
      const sAuc = spread(s.map((x) => x.rocAuc));
      const oAp = spread(o.averagePrecision);
      const sAp = spread(s.map((x) => x.averagePrecision));
      const ok = oAuc.mean >= sAuc.mean - 0.01;
      if (!ok) below++;
      rows.push({
        variant: v.name,
        features: o.cols,
        'ROC-AUC ours': `${f3(oAuc.mean)} (${f3(oAuc.min)}-${f3(oAuc.max)})`,
        'ROC-AUC sklearn': `${f3(sAuc.mean)} (${f3(sAuc.min)}-${f3(sAuc.max)})`,
        'AP ours': f3(oAp.mean),
        'AP sklearn': f3(sAp.mean),
        'fit s ours/sklearn': `${sum(o.fitSeconds).toFixed(2)} / ${sum(s.map((x) => x.fitSeconds)).toFixed(2)}`,
        'score s ours/sklearn': `${sum(o.scoreSeconds).toFixed(2)} / ${sum(s.map((x) => x.scoreSeconds)).toFixed(2)}`,
        floor: ok ? 'ok' : 'BELOW',
      });
      results.push({
        variant: v.name,
        options: v.options,
        features: o.cols,
        ours: { rocAuc: oAuc, averagePrecision: oAp, fitSeconds: o.fitSeconds, scoreSeconds: o.scoreSeconds },
        sklearn: { rocAuc: sAuc, averagePrecision: sAp, fitSeconds: s.map((x) => x.fitSeconds), scoreSeconds: s.map((x) => x.scoreSeconds) },
        meetsFloor: ok,
      });
    }
    console.log(
      `\n${textTable(rows, { caption: `KDDTrain+_20Percent -> KDDTest+, same encoded matrices, 100 trees, seeds 0-${nSeeds - 1}; times summed over seeds (ours 1 thread; ${ref.version})` })}`,
    );
    console.log(`floor: our mean ROC-AUC >= scikit-learn's - 0.01: ${below === 0 ? 'met in every variant' : `missed in ${below} variant(s)`}`);
    const path = new Workspace().writeJson('bench-real.json', {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
      sklearn: ref.version,
      settings: { ...REAL_TRAFFIC_FOREST, seeds },
      results,
    });
    console.log(`wrote ${relative(process.cwd(), path)}`);
    return below === 0 ? 0 : 3;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`bench:real: unexpected failure: ${(e as Error).message}`);
  process.exitCode = 1;
}
