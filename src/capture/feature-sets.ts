/**
 * Which flow fields a model learns from, and how flow records become the labelled
 * columns (data/flows.ts FlowRecords) that the evaluation protocol and the encoder read.
 *
 * Identifiers are never features: addresses and ports name endpoints (a model that
 * learns "10.0.0.5 is normal" learns the lab, not the traffic), absolute times name the
 * day, and expiration_id says how the meter ended the flow. What remains:
 * - `flow`: nfstream's per-flow statistics (durations, packets and bytes each way,
 *   packet sizes, inter-arrival times, TCP flag counts), 57 fields;
 * - `window`: the window features (capture/windows.ts): NSL-KDD's 19 traffic features and 7 of ours about the source, 26 fields;
 * - `all`: both;
 * - `source` (the default, chosen by measurement on the lab's captures: see the
 *   README's "Your own traffic"): the windows about the flow's source
 *   (`src_count`, `src_serror_rate`, `src_rerror_rate`, `src_dst_port_count`) and the
 *   flow's total bytes. Scans, floods, brute force and slow HTTP are many flows from
 *   one source; an exfiltration is one flow with many bytes. The destination's windows
 *   are left out because a flood raises them for every flow to the attacked host, and
 *   the other per-flow statistics because they drown the few features that matter.
 * Every count, byte total, duration and size is heavy-tailed, so they are the log1p
 * candidates (`heavyTailed` of the schema); the window rates are already in [0, 1].
 */
import { createMatrix } from '../core/matrix';
import { attackFamily, type FlowRecords, type FlowSchema } from '../data/flows';
import { NFSTREAM_NUMERIC_FIELDS, WINDOW_FIELDS, type FlowRecord } from './flow-record';

/** nfstream's per-flow statistics without identifiers, absolute times and the expiry reason */
export const PER_FLOW_FEATURES: readonly string[] = NFSTREAM_NUMERIC_FIELDS.filter(
  (f) => f !== 'expiration_id' && !f.endsWith('_first_seen_ms') && !f.endsWith('_last_seen_ms'),
);

/** the named feature sets of flows: see the module comment */
export const FLOW_FEATURE_SETS = {
  flow: PER_FLOW_FEATURES,
  window: WINDOW_FIELDS as readonly string[],
  all: [...PER_FLOW_FEATURES, ...WINDOW_FIELDS] as readonly string[],
  source: ['src_count', 'src_serror_rate', 'src_rerror_rate', 'src_dst_port_count', 'bidirectional_bytes'] as readonly string[],
} as const;

/** the feature set flow models use unless told otherwise (see the module comment) */
export const DEFAULT_FLOW_FEATURES: FlowFeatureSet = 'source';
/** log1p on counts and bytes is part of the default (bytes span 60 B to 26 MB in the lab) */
export const DEFAULT_FLOW_LOG1P = true;

export type FlowFeatureSet = keyof typeof FLOW_FEATURE_SETS;

/** count-like window fields (the rates are not heavy-tailed) */
const WINDOW_COUNTS = new Set(['count', 'srv_count', 'dst_host_count', 'dst_host_srv_count', 'src_dst_port_count', 'src_count', 'src_host_count']);

/** the schema of flow records with the given numeric features; label "label", normal label "normal", family = episode name */
export function flowSchema(features: readonly string[], name = 'flows'): FlowSchema {
  return {
    name,
    features: features.map((f) => ({ name: f, kind: 'numeric' as const })),
    label: 'label',
    normalLabel: 'normal',
    trailing: [],
    heavyTailed: features.filter((f) => PER_FLOW_FEATURES.includes(f) || WINDOW_COUNTS.has(f)),
  };
}

/**
 * Flow records as labelled columns for the evaluation protocol.
 *
 * @param labels - per flow, "normal" or the episode name (capture/ground-truth.ts labelFlows)
 * @throws RangeError naming the flow and field when a feature is missing or not finite
 */
export function flowColumns(flows: readonly FlowRecord[], labels: readonly string[], features: readonly string[], source: string): FlowRecords {
  if (labels.length !== flows.length) throw new RangeError(`${source}: ${flows.length} flows but ${labels.length} labels`);
  const schema = flowSchema(features, source);
  const d = features.length;
  const numeric = createMatrix(flows.length, d);
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i]!;
    for (let j = 0; j < d; j++) {
      const v = f[features[j]!];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(`${source}: flow ${i + 1} (${f.src_ip}:${f.src_port} -> ${f.dst_ip}:${f.dst_port}) has no finite ${features[j]} (${JSON.stringify(v ?? null)})`);
      }
      numeric.data[i * d + j] = v;
    }
  }
  return {
    schema,
    source,
    rows: flows.length,
    numeric,
    numericNames: [...features],
    categorical: [],
    categoricalNames: [],
    y: Int8Array.from(labels, (l) => (l === 'normal' ? 1 : -1)),
    attack: [...labels],
    family: labels.map((l) => attackFamily(schema, l)),
  };
}
