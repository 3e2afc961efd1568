/**
 * `npm run bench:explain`: how long exact TreeSHAP takes per row, on one core.
 * Fits a 100-tree forest (maxSamples 'auto' = 256) on simulated traffic of two
 * widths, the 5-feature reference data and 120 features (the width of the
 * encoded NSL-KDD records), explains 10,000 fresh rows of each (5% anomalies),
 * checks local accuracy on every row, prints a table and writes
 * artifacts/bench-explain.json.
 *
 *   npm run bench:explain -- [--rows 10000]
 *
 * Exit codes: 0 done; 1 a run failed or local accuracy broke; 2 bad arguments.
 */
import { cpus, totalmem } from 'node:os';
import { relative } from 'node:path';
import { DEFAULT_PARAMS } from '../params/params';
import { simulateBatch, simulateTraffic } from '../data/simulate';
import { IsolationForest } from '../model/forest';
import { buildShapTables } from '../model/treeshap';
import { textTable, type TableRow } from '../notebook/tables';
import { Workspace } from '../persist/workspace';
import { formatCount } from '../core/count-text';

interface Outcome {
  data: string;
  features: number;
  trees: number;
  maxSamples: number;
  meanNodesPerTree: number;
  meanLeafDepth: number;
  rows: number;
  tablesMs: number;
  /** wall time */
  explainMs: number;
  msPerRow: number;
  /** CPU time of this process while explaining (on a shared machine, wall time includes waiting for a core) */
  cpuMs: number;
  cpuMsPerRow: number;
  /** max |expectedValue + row sum - mean path length| over the explained rows */
  maxLocalAccuracyError: number;
}

function benchOne(label: string, nFeatures: number, rows: number): Outcome {
  const params = { ...DEFAULT_PARAMS, nFeatures };
  const train = simulateTraffic(params);
  const forest = IsolationForest.fit(train.X, { nEstimators: 100, maxSamples: 'auto', contamination: 0.05, seed: params.seed });
  const X = simulateBatch(params, 1, { size: rows, anomalyShare: 0.05 }).X;
  const flat = forest.flat();
  // tables alone (built once per model; shapValues builds them on first use)
  const t0 = performance.now();
  buildShapTables(flat);
  const tablesMs = performance.now() - t0;
  forest.shapValues(X.rows > 100 ? { rows: 100, cols: X.cols, data: X.data.subarray(0, 100 * X.cols) } : X); // warm up the JIT
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const { expectedValue, values } = forest.shapValues(X);
  const cpu = process.cpuUsage(cpu0);
  const explainMs = performance.now() - t1;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sums = forest.pathLengthSums(X);
  let worst = 0;
  for (let i = 0; i < X.rows; i++) {
    let f = expectedValue;
    for (let j = 0; j < X.cols; j++) f += values.data[i * X.cols + j];
    worst = Math.max(worst, Math.abs(f - sums[i] / forest.nEstimators));
  }
  return {
    data: label,
    features: nFeatures,
    trees: forest.nEstimators,
    maxSamples: forest.maxSamples,
    meanNodesPerTree: forest.nodeCount / forest.nEstimators,
    meanLeafDepth: meanLeafDepth(flat.treeStart, flat.feature, flat.right),
    rows: X.rows,
    tablesMs,
    explainMs,
    msPerRow: explainMs / X.rows,
    cpuMs,
    cpuMsPerRow: cpuMs / X.rows,
    maxLocalAccuracyError: worst,
  };
}

function meanLeafDepth(treeStart: Int32Array, feature: Int16Array, right: Int32Array): number {
  const depth = new Int32Array(feature.length);
  let sum = 0;
  let leaves = 0;
  for (let t = 0; t + 1 < treeStart.length; t++) {
    for (let k = treeStart[t]; k < treeStart[t + 1]; k++) {
      if (feature[k] >= 0) {
        depth[k + 1] = depth[k] + 1;
        depth[right[k]] = depth[k] + 1;
      } else {
        sum += depth[k];
        leaves++;
      }
    }
  }
  return sum / leaves;
}

function main(argv: readonly string[]): number {
  let rows = 10_000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rows') {
      rows = Number(argv[++i]);
      if (!Number.isInteger(rows) || rows < 100) {
        console.error(`bench:explain: --rows must be an integer >= 100, got ${argv[i]}`);
        return 2;
      }
    } else {
      console.error(`bench:explain: unknown argument ${argv[i]} (usage: npm run bench:explain -- [--rows 10000])`);
      return 2;
    }
  }
  const outcomes = [benchOne('reference (simulated, 5 features)', 5, rows), benchOne('NSL-KDD width (simulated, 120 features)', 120, rows)];
  const table: TableRow[] = outcomes.map((o) => ({
    data: o.data,
    trees: o.trees,
    'nodes/tree': o.meanNodesPerTree.toFixed(1),
    'leaf depth': o.meanLeafDepth.toFixed(2),
    rows: o.rows,
    'tables ms': o.tablesMs.toFixed(1),
    'explain s': (o.explainMs / 1000).toFixed(2),
    'ms/row': o.msPerRow.toFixed(3),
    'CPU ms/row': o.cpuMsPerRow.toFixed(3),
    'rows/s': formatCount(1000 / o.msPerRow),
    'max |sum error|': o.maxLocalAccuracyError.toExponential(1),
  }));
  console.log(textTable(table, { caption: 'Exact TreeSHAP of the mean path length, one core (IsolationForest, 100 trees, maxSamples 256)' }));
  const path = new Workspace().writeJson('bench-explain.json', {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    outcomes,
  });
  console.log('ms/row is wall time; CPU ms/row is the CPU time the process got (they differ when other work shares the core).');
  console.log(`wrote ${relative(process.cwd(), path)}`);
  const broken = outcomes.find((o) => !(o.maxLocalAccuracyError <= 1e-9));
  if (broken) {
    console.error(`bench:explain: local accuracy broke on ${broken.data}: error ${broken.maxLocalAccuracyError}`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`bench:explain: ${(e as Error).message}`);
  process.exitCode = 1;
}
