/**
 * `npm run evaluate -- --format capture ...`: train on the normal flows of one capture
 * (pcap, pcapng or Zeek conn.log), set the threshold on a validation part of them, and
 * report per-episode detection on another capture labelled by a ground-truth file (the
 * protocol lives in src/workflow/capture-evaluation.ts).
 */
import { parseOptions, integerOption, MLFLOW_OPTION } from './args';
import { captureMetrics } from '../experiments/evaluation-metrics';
import { recordedPath } from '../experiments/provenance';
import type { RunOutcome } from '../experiments/recorder';
import { recordEvaluation } from './evaluation-record';
import { UsageError } from './command';
import { FlowInputError, readFlowFile } from '../capture/flow-input';
import { labelFlows, readGroundTruth, GroundTruthError, type Episode } from '../capture/ground-truth';
import { DEFAULT_FLOW_FEATURES, FLOW_FEATURE_SETS, type FlowFeatureSet } from '../capture/feature-sets';
import { FileReadError } from '../data/textfile';
import { ArtifactError, saveBundle } from '../persist/bundle';
import { textTable, type TableRow } from '../notebook/tables';
import { captureBundle, compareFeatureSets, evaluateCaptures, prepareCaptures, type CaptureEvaluation, type LabelledFlows } from '../workflow/capture-evaluation';
import { basename } from 'node:path';
import { formatCount } from '../core/count-text';

export const CAPTURE_EVALUATE_USAGE = `usage: npm run evaluate -- --format capture --train FILE --test FILE --truth FILE [options]

Reads both captures into flows (pcap, pcapng or Zeek conn.log, plain or gzip, as npm run
flows does), fits on the training capture's normal flows in time order and sets the
threshold on their last part (--validation), then reports ROC-AUC and per-episode
detection on the test capture, whose flows the truth file labels (episode, attacker
address, time window; written by npm run traffic-lab).

  --train FILE          the normal capture (flows that the truth file marks as attacks are left out)
  --test FILE           the capture to detect in
  --truth FILE          ground truth CSV: capture,episode,tool,src_ip,start_ms,end_ms
  --features SET|LIST   source (default: the source's windows and the flow's bytes), window,
                        flow, all, or field names joined by commas
  --no-log1p            no log1p on counts, bytes, durations and sizes (default: log1p)
  --compare             instead: every feature set, raw and with log1p, side by side
  --validation F        the part of the normal flows that sets the threshold (default 0.3)
  --fpr LIST            false-positive rates on the validation flows (default 0.01)
  --seeds N             forests with seeds 0..N-1 (default 5)
  --json                print JSON instead of the tables
  --save-model FILE     also write a bundle (seed 0, threshold at the first --fpr) for
                        npm run stream -- --format pcap
  --mlflow URL          also log the run to this MLflow tracking server (default:
                        $MLFLOW_TRACKING_URI); an unreachable server costs a warning

Each evaluation (not --compare) is recorded in artifacts/runs/runs.ndjson: npm run runs.

Exit codes: 0 done, 2 bad usage, 4 unreadable or malformed capture or truth file,
5 model file cannot be written, 1 unexpected failure.`;

export interface CaptureEvaluateArgs {
  train: string;
  test: string;
  truth: string;
  features: FlowFeatureSet | string[];
  log1p: boolean;
  compare: boolean;
  validation: number;
  fpr: number[];
  seeds: number;
  json: boolean;
  saveModel?: string;
  mlflow?: string;
}

/** Parses the capture mode's options; undefined for --help. @throws UsageError */
export function parseCaptureEvaluateArgs(argv: readonly string[]): CaptureEvaluateArgs | undefined {
  const { values } = parseOptions(argv, {
    format: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    truth: { type: 'string' },
    features: { type: 'string' },
    'no-log1p': { type: 'boolean' },
    compare: { type: 'boolean' },
    validation: { type: 'string' },
    fpr: { type: 'string' },
    seeds: { type: 'string' },
    json: { type: 'boolean' },
    'save-model': { type: 'string' },
    ...MLFLOW_OPTION,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return undefined;
  for (const k of ['train', 'test', 'truth'] as const) if (!values[k]) throw new UsageError(`--${k} FILE is required with --format capture`);
  const f = values.features ?? DEFAULT_FLOW_FEATURES;
  const features = f in FLOW_FEATURE_SETS ? (f as FlowFeatureSet) : f.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(features) && features.length === 0) throw new UsageError(`--features must be ${Object.keys(FLOW_FEATURE_SETS).join(', ')} or field names; got ${JSON.stringify(f)}`);
  const validation = values.validation === undefined ? 0.3 : Number(values.validation);
  if (!(validation > 0 && validation < 1)) throw new UsageError(`--validation must be a number in (0, 1), got ${JSON.stringify(values.validation)}`);
  const fpr = (values.fpr ?? '0.01').split(',').map(Number);
  if (fpr.some((x) => !(x > 0 && x < 1))) throw new UsageError(`--fpr must be rates in (0, 1) joined by commas, got ${JSON.stringify(values.fpr)}`);
  if (values.compare && values['save-model']) throw new UsageError('--compare evaluates several models; give --features (and --no-log1p) to --save-model one');
  return {
    train: values.train!,
    test: values.test!,
    truth: values.truth!,
    features,
    log1p: !values['no-log1p'],
    compare: values.compare ?? false,
    validation,
    fpr,
    seeds: values.seeds === undefined ? 5 : integerOption('--seeds', values.seeds),
    json: values.json ?? false,
    saveModel: values['save-model'],
    mlflow: values.mlflow,
  };
}

const f3 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);

/** the per-episode table of one evaluation */
export function formatCaptureEvaluation(e: CaptureEvaluation): string {
  const lines = [
    `features: ${e.featureSet} (${e.features.length})${e.log1p ? ' + log1p' : ''}; fit ${formatCount(e.fitFlows)} normal flows, threshold on ${formatCount(e.validationFlows)} later ones; test ${formatCount(e.testFlows)} flows (${formatCount(e.testNormal)} normal); seeds ${e.seeds.join(',')}`,
    `ROC-AUC ${f3(e.rocAuc.mean)} ± ${f3(e.rocAuc.std)}`,
  ];
  for (const [k, d] of Object.entries(e.detection)) {
    const rows: TableRow[] = Object.entries(e.episodeFlows).map(([ep, n]) => ({ episode: ep, flows: n, detected: `${pct(d.perEpisode[ep]!.mean)} (min ${pct(d.perEpisode[ep]!.min)})` }));
    rows.push({ episode: 'all attacks', flows: e.testFlows - e.testNormal, detected: pct(d.detectionRate.mean) });
    rows.push({ episode: 'normal (false positives)', flows: e.testNormal, detected: pct(d.testFpr.mean) });
    lines.push('', textTable(rows, { caption: `at ${k} false positives on the validation flows (reached ${pct(d.validationFpr.mean)} there)` }));
  }
  return lines.join('\n');
}

/** the comparison table: one row per variant */
export function formatComparison(results: readonly CaptureEvaluation[]): string {
  const rows: TableRow[] = results.map((e) => {
    const d = Object.values(e.detection)[0]!;
    const row: TableRow = { features: `${e.featureSet}${e.log1p ? ' + log1p' : ''}`, n: e.features.length, 'ROC-AUC': f3(e.rocAuc.mean), 'test FPR': pct(d.testFpr.mean) };
    for (const [ep, s] of Object.entries(d.perEpisode)) row[ep] = pct(s.mean);
    row['weakest episode'] = pct(Math.min(...Object.values(d.perEpisode).map((s) => s.mean)));
    return row;
  });
  const k = Object.keys(results[0]?.detection ?? {})[0] ?? '';
  return textTable(rows, { caption: `per-episode detection at ${k} false positives on the validation flows (mean over seeds)` });
}

async function labelled(path: string, episodes: readonly Episode[]): Promise<LabelledFlows> {
  const { flows } = await readFlowFile(path);
  return { source: path, flows, labels: labelFlows(flows, episodes, basename(path)) };
}

/** Runs the capture mode; resolves with the exit code. */
export async function runCaptureEvaluate(argv: readonly string[]): Promise<number> {
  const start = new Date();
  let args: CaptureEvaluateArgs | undefined;
  try {
    args = parseCaptureEvaluateArgs(argv);
  } catch (e) {
    process.stderr.write(`evaluate: ${(e as Error).message} (see --help)\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write(`${CAPTURE_EVALUATE_USAGE}\n`);
    return 0;
  }
  let train: LabelledFlows;
  let test: LabelledFlows;
  try {
    const episodes = readGroundTruth(args.truth);
    train = await labelled(args.train, episodes);
    test = await labelled(args.test, episodes);
    // attacks in the training capture are not learned as normal
    const keep = train.labels.map((l) => l === 'normal');
    train = { ...train, flows: train.flows.filter((_, i) => keep[i]), labels: train.labels.filter((_, i) => keep[i]) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof FlowInputError || e instanceof GroundTruthError || e instanceof FileReadError) {
      process.stderr.write(`evaluate: ${err.message}\n`);
      return 4;
    }
    if (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
      process.stderr.write(`evaluate: cannot read ${err.path ?? 'an input'}: ${err.code}\n`);
      return 4;
    }
    throw e;
  }
  const options = { validationFraction: args.validation, fprTargets: args.fpr, seeds: Array.from({ length: args.seeds }, (_, k) => k) };
  try {
    if (args.compare) {
      const results = compareFeatureSets(train, test, options);
      process.stdout.write(args.json ? `${JSON.stringify(results)}\n` : `train ${args.train}, test ${args.test}\n${formatComparison(results)}\n`);
      return 0;
    }
    const pc = prepareCaptures(train, test, { ...options, features: args.features, log1p: args.log1p });
    const e = evaluateCaptures(train, test, { ...options, features: args.features, log1p: args.log1p, prepared: pc });
    process.stdout.write(args.json ? `${JSON.stringify(e)}\n` : `train ${args.train}, test ${args.test}\n${formatCaptureEvaluation(e)}\n`);
    let model: RunOutcome['model'] = null;
    if (args.saveModel) {
      try {
        const saved = saveBundle(args.saveModel, captureBundle(pc, 0, args.fpr[0]!));
        model = { path: recordedPath(saved.path), checksum: saved.checksum };
        process.stderr.write(`evaluate: model bundle (seed 0, threshold at ${pct(args.fpr[0]!)} FPR on the validation flows) written to ${saved.path} (${formatCount(saved.bytes)} bytes, ${saved.checksum})\n`);
      } catch (err) {
        if (err instanceof ArtifactError || (err as NodeJS.ErrnoException).code) {
          process.stderr.write(`evaluate: cannot write the model to ${args.saveModel}: ${(err as Error).message}\n`);
          return 5;
        }
        throw err;
      }
    }
    const params = {
      format: 'capture',
      train: args.train,
      test: args.test,
      truth: args.truth,
      features: Array.isArray(args.features) ? args.features.join(',') : (args.features as string),
      log1p: args.log1p,
      validation: args.validation,
      fpr: args.fpr.join(','),
      seeds: args.seeds,
      'save-model': args.saveModel ?? null,
    };
    return await recordEvaluation('capture', argv, params, [args.train, args.test, args.truth], { metrics: captureMetrics(e), model, artifacts: args.saveModel ? [args.saveModel] : [] }, args.mlflow, start);
  } catch (e) {
    if (e instanceof RangeError) {
      process.stderr.write(`evaluate: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
}
