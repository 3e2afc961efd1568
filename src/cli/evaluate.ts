/**
 * `npm run evaluate`: train on one file of labelled flow records, score another
 * once, print the metrics over several forest seeds (the protocol lives in
 * src/workflow/real-traffic.ts).
 */
import { MLFLOW_OPTION, oneOf, parseOptions } from './args';
import { recordEvaluation } from './evaluation-record';
import { realTrafficMetrics, validatedMetrics } from '../experiments/evaluation-metrics';
import { recordedPath } from '../experiments/provenance';
import type { RunOutcome } from '../experiments/recorder';
import type { RunParamValue } from '../experiments/run-record';
import { UsageError } from './command';
import { FileReadError } from '../data/textfile';
import { FlowFormatError, NSL_KDD_SCHEMA, readCsvFlowRecords, readFlowRecords, type FlowRecords } from '../data/flows';
import { ArtifactError, saveBundle } from '../persist/bundle';
import { textTable, type TableRow } from '../notebook/tables';
import { validatedDetectionRows } from '../notebook/real-traffic-tables';
import { runCaptureEvaluate } from './evaluate-captures';
import { evaluateRealTraffic, prepareRealTraffic, realTrafficBundle, validatedDetection, type RealTrafficEvaluation, type Spread, type ValidatedDetection } from '../workflow/real-traffic';
import { formatCount } from '../core/count-text';

export const EXIT = { ok: 0, internal: 1, usage: 2, input: 4, output: 5 } as const;

const USAGE = `usage: npm run evaluate -- --train FILE --test FILE [options]

Trains an Isolation Forest on the training file, scores the test file once and
prints ROC-AUC, average precision, precision/recall/F1 at the threshold and the
detection rate per attack family at 1% and 5% false-positive rate (thresholds set
on the test's normal records: a reading of the ranking), as mean and spread over
the seeds; with --validate also the rates a threshold chosen without the test set
reaches.

  --train FILE            training records, plain or .gz (e.g. data/nsl-kdd/KDDTrain+_20Percent.txt.gz)
  --test FILE             test records, plain or .gz (e.g. data/nsl-kdd/KDDTest+.txt.gz)
  --format nsl-kdd|csv|capture
                          nsl-kdd (default): 41 features, label, optional difficulty, with or
                          without header; csv: header required, last column "label"
                          ("normal" or 1 = normal), a column is categorical when its first value
                          is not a number; capture: packet captures or Zeek logs with a
                          ground-truth file (its own options: --format capture --help)
  --train-on all|normal   fit on all training records (default) or the normal ones only
  --encoding onehot|ordinal  categorical encoding (default onehot)
  --log1p                 log1p on heavy-tailed counters (src_bytes, dst_bytes, duration, ...)
  --seeds N               forests with seeds 0..N-1 (default 5)
  --validate              also hold out 30% of the normal training records (seeded), fit on
                          the other normal records, set the 1% and 5% thresholds on the
                          held-out scores and report the false-positive rate and detection
                          the test file then shows (notebook 09)
  --json                  print one JSON object instead of the table
  --save-model FILE       also write a model bundle (seed 0) that npm run stream can use
                          on raw records
  --mlflow URL            also log the run to this MLflow tracking server (default:
                          $MLFLOW_TRACKING_URI); an unreachable server costs a warning

Each evaluation is recorded in artifacts/runs/runs.ndjson (options, the input files'
checksums, the metrics): npm run runs lists them.

Exit codes: 0 done, 2 bad usage, 4 unreadable or malformed input file,
5 model file or run log cannot be written, 1 unexpected failure.`;

export interface EvaluateArgs {
  train: string;
  test: string;
  format: 'nsl-kdd' | 'csv';
  trainOn: 'all' | 'normal';
  encoding: 'onehot' | 'ordinal';
  log1p: boolean;
  seeds: number;
  validate: boolean;
  json: boolean;
  saveModel?: string;
  mlflow?: string;
}

/** Parse the command line; returns undefined for --help. */
export function parseEvaluateArgs(argv: string[]): EvaluateArgs | undefined {
  const { values } = parseOptions(argv, {
    train: { type: 'string' },
    test: { type: 'string' },
    format: { type: 'string' },
    'train-on': { type: 'string' },
    encoding: { type: 'string' },
    log1p: { type: 'boolean' },
    seeds: { type: 'string' },
    validate: { type: 'boolean' },
    json: { type: 'boolean' },
    'save-model': { type: 'string' },
    ...MLFLOW_OPTION,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return undefined;
  if (!values.train) throw new UsageError('--train FILE is required');
  if (!values.test) throw new UsageError('--test FILE is required');
  const seeds = values.seeds === undefined ? 5 : Number(values.seeds);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 1000) throw new UsageError(`--seeds must be an integer from 1 to 1000, got ${JSON.stringify(values.seeds)}`);
  return {
    train: values.train,
    test: values.test,
    format: oneOf('--format', values.format, ['nsl-kdd', 'csv'], 'nsl-kdd'),
    trainOn: oneOf('--train-on', values['train-on'], ['all', 'normal'], 'all'),
    encoding: oneOf('--encoding', values.encoding, ['onehot', 'ordinal'], 'onehot'),
    log1p: values.log1p ?? false,
    seeds,
    validate: values.validate ?? false,
    json: values.json ?? false,
    saveModel: values['save-model'],
    mlflow: values.mlflow,
  };
}

const f3 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const pm = (s: Spread) => `${f3(s.mean)} ± ${f3(s.std)}`;
const range = (s: Spread) => `${f3(s.min)}-${f3(s.max)}`;

/** The printed report: settings, a metrics table and a per-family table (and the validated thresholds' table). */
export function formatEvaluation(e: RealTrafficEvaluation, train: string, test: string, validated?: ValidatedDetection): string {
  const o = e.options;
  const lines = [
    `train ${train}: ${formatCount(e.trainRecords)} records (${o.trainOn === 'normal' ? 'normal only' : 'all'}); test ${test}: ${formatCount(e.testRecords)} records, ${formatCount(e.testAttacks)} attacks (prevalence ${f3(e.prevalence)})`,
    `${o.encoding} encoding${o.log1p ? ' + log1p' : ''} -> ${e.encodedFeatures} features, standardized; IsolationForest(${e.forest.nEstimators} trees, maxSamples ${e.forest.maxSamples}, contamination ${e.forest.contamination}); seeds ${e.seeds.join(',')}`,
  ];
  const unseenCols = Object.entries(e.unseen.byColumn);
  if (unseenCols.length > 0) {
    lines.push(`test categories unseen in training (scored as "other"): ${formatCount(e.unseen.records)} records; ${unseenCols.map(([c, v]) => `${c}: ${Object.entries(v).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ')}`).join('; ')}`);
  }
  const rows: TableRow[] = [
    { metric: 'ROC-AUC', 'mean ± std': pm(e.rocAuc), 'min-max': range(e.rocAuc) },
    { metric: 'average precision', 'mean ± std': pm(e.averagePrecision), 'min-max': range(e.averagePrecision) },
    { metric: 'precision (attack) at threshold', 'mean ± std': pm(e.precision), 'min-max': range(e.precision) },
    { metric: 'recall (attack) at threshold', 'mean ± std': pm(e.recall), 'min-max': range(e.recall) },
    { metric: 'F1 (attack) at threshold', 'mean ± std': pm(e.f1), 'min-max': range(e.f1) },
  ];
  for (const [k, d] of Object.entries(e.detection)) {
    rows.push({ metric: `detection rate at ${k} FPR (actual FPR ${f3(d.fpr.mean)})`, 'mean ± std': pm(d.detectionRate), 'min-max': range(d.detectionRate) });
  }
  lines.push('', textTable(rows, { caption: `test metrics over ${e.seeds.length} seed(s)` }));
  const fam: TableRow[] = Object.entries(e.familyCounts).map(([family, n]) => {
    const row: TableRow = { family, 'test records': n };
    for (const [k, d] of Object.entries(e.detection)) row[`detected at ${k} FPR`] = d.perFamily[family] ? pm(d.perFamily[family]) : 'n/a';
    return row;
  });
  lines.push('', textTable(fam, { caption: 'detection rate per attack family (mean ± std over seeds)' }));
  if (validated) {
    lines.push('', textTable(validatedDetectionRows(validated), { caption: `thresholds set on ${formatCount(validated.validationRecords)} held-out normal training records (forests fitted on the other ${formatCount(validated.fitRecords)}; mean over seeds)` }));
  }
  lines.push('', `time: prepare ${e.timingsMs.prepare.toFixed(0)} ms, fit ${e.timingsMs.fit.toFixed(0)} ms, score ${e.timingsMs.score.toFixed(0)} ms (all seeds)`);
  return lines.join('\n');
}

/** The --json object: every Spread has mean, std, min, max and perSeed. */
export function evaluationJson(e: RealTrafficEvaluation, train: string, test: string, validated?: ValidatedDetection): Record<string, unknown> {
  const perFamily: Record<string, Record<string, Spread>> = {};
  for (const [k, d] of Object.entries(e.detection)) {
    for (const [f, s] of Object.entries(d.perFamily)) (perFamily[f] ??= {})[k] = s;
  }
  const { perSeed: _p, ...rest } = e;
  return { train, test, ...rest, perFamily, ...(validated ? { validated } : {}) };
}

function loadRecords(path: string, format: EvaluateArgs['format']): FlowRecords {
  return format === 'csv' ? readCsvFlowRecords(path) : readFlowRecords(path, NSL_KDD_SCHEMA);
}

export async function runEvaluate(argv: string[]): Promise<number> {
  const start = new Date();
  let args: EvaluateArgs | undefined;
  try {
    args = parseEvaluateArgs(argv);
  } catch (e) {
    process.stderr.write(`evaluate: ${(e as Error).message} (see --help)\n`);
    return EXIT.usage;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let train: FlowRecords;
  let test: FlowRecords;
  try {
    train = loadRecords(args.train, args.format);
    test = loadRecords(args.test, args.format);
  } catch (e) {
    if (e instanceof FileReadError || e instanceof FlowFormatError) {
      process.stderr.write(`evaluate: ${e.message}\n`);
      return EXIT.input;
    }
    throw e;
  }
  let evaluation: RealTrafficEvaluation;
  let validated: ValidatedDetection | undefined;
  try {
    const seeds = Array.from({ length: args.seeds }, (_, k) => k);
    evaluation = evaluateRealTraffic(train, test, { trainOn: args.trainOn, encoding: args.encoding, log1p: args.log1p, seeds });
    if (args.validate) validated = validatedDetection(train, test, { encoding: args.encoding, log1p: args.log1p, seeds });
  } catch (e) {
    // e.g. the test file's columns differ from the training file's, or no normal training records
    if (e instanceof RangeError) {
      process.stderr.write(`evaluate: ${e.message}\n`);
      return EXIT.input;
    }
    throw e;
  }
  if (args.json) process.stdout.write(`${JSON.stringify(evaluationJson(evaluation, args.train, args.test, validated))}\n`);
  else process.stdout.write(`${formatEvaluation(evaluation, args.train, args.test, validated)}\n`);
  let model: RunOutcome['model'] = null;
  if (args.saveModel) {
    try {
      const prepared = prepareRealTraffic(train, test, evaluation.options);
      const saved = saveBundle(args.saveModel, realTrafficBundle(prepared, train, 0));
      model = { path: recordedPath(saved.path), checksum: saved.checksum };
      process.stderr.write(`evaluate: model bundle (seed 0) written to ${saved.path} (${formatCount(saved.bytes)} bytes, ${saved.checksum})\n`);
    } catch (e) {
      if (e instanceof ArtifactError || (e as NodeJS.ErrnoException).code) {
        process.stderr.write(`evaluate: cannot write the model to ${args.saveModel}: ${(e as Error).message}\n`);
        return EXIT.output;
      }
      throw e;
    }
  }
  const params: Record<string, RunParamValue> = { train: args.train, test: args.test, format: args.format, 'train-on': args.trainOn, encoding: args.encoding, log1p: args.log1p, seeds: args.seeds, validate: args.validate, 'save-model': args.saveModel ?? null };
  const metrics = { ...realTrafficMetrics(evaluation), ...(validated ? validatedMetrics(validated) : {}) };
  return recordEvaluation(args.format, argv, params, [args.train, args.test], { metrics, model, artifacts: args.saveModel ? [args.saveModel] : [] }, args.mlflow, start);
}

/** `--format capture` (packets or Zeek logs, with a ground-truth file) has its own options: see evaluate-captures.ts */
function isCaptureMode(argv: readonly string[]): boolean {
  const i = argv.indexOf('--format');
  return (i >= 0 && argv[i + 1] === 'capture') || argv.includes('--format=capture');
}

if (require.main === module) {
  // a reader that closes the pipe early (| head) ends the command quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? EXIT.ok : EXIT.internal));
  const argv = process.argv.slice(2);
  const fail = (e: unknown) => {
    process.stderr.write(`evaluate: unexpected failure: ${(e as Error).message}\n`);
    process.exitCode = EXIT.internal;
  };
  if (isCaptureMode(argv)) {
    runCaptureEvaluate(argv).then((code) => (process.exitCode = code), fail);
  } else {
    runEvaluate(argv).then((code) => (process.exitCode = code), fail);
  }
}
