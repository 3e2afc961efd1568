/**
 * The traffic lab's shipped run (data/lab, seed 42) through the whole flow path: every
 * episode found at the floor the README promises, with the default features, at 1%
 * false positives on the validation flows; and the default is the best of the compared
 * feature sets on its weakest episode (it was chosen by this measurement).
 */
import { describe, expect, it } from 'vitest';
import { readFlowFile } from '../src/capture/flow-input';
import { labelFlows, readGroundTruth } from '../src/capture/ground-truth';
import { labFiles } from '../src/capture/lab-files';
import { DEFAULT_FLOW_FEATURES } from '../src/capture/feature-sets';
import { compareFeatureSets, evaluateCaptures, type LabelledFlows } from '../src/workflow/capture-evaluation';

/** the README's floor: every episode, mean over seeds 0-4 */
export const EPISODE_FLOOR = 0.95;

async function labelled(path: string, capture: string, truth: string): Promise<LabelledFlows> {
  const { flows } = await readFlowFile(path);
  return { source: capture, flows, labels: labelFlows(flows, readGroundTruth(truth), capture) };
}

describe('the lab captures (data/lab), end to end', () => {
  const lab = labFiles();
  it(`the default features (${DEFAULT_FLOW_FEATURES} + log1p) detect every episode at >= 95% at 1% validation FPR`, async () => {
    const train = await labelled(lab.normal, 'normal.pcap', lab.truth);
    const test = await labelled(lab.mixed, 'mixed.pcap', lab.truth);
    expect(train.labels.every((l) => l === 'normal')).toBe(true);
    expect(new Set(test.labels)).toEqual(new Set(['normal', 'syn-scan', 'version-scan', 'syn-flood', 'brute-force', 'slow-http', 'exfiltration']));
    const e = evaluateCaptures(train, test, { seeds: [0, 1, 2, 3, 4], fprTargets: [0.01] });
    const d = e.detection['1%']!;
    const rates = Object.fromEntries(Object.entries(d.perEpisode).map(([k, s]) => [k, s.mean]));
    for (const [episode, rate] of Object.entries(rates)) expect([episode, rate >= EPISODE_FLOOR]).toEqual([episode, true]);
    expect(d.validationFpr.mean).toBeLessThanOrEqual(0.01);
    // the normal flows of the mixed capture: a false-positive rate near the validation's
    expect(d.testFpr.mean).toBeLessThan(0.05);
    expect(e.rocAuc.mean).toBeGreaterThan(0.98);

    // and no other compared feature set does better on its weakest episode
    const all = compareFeatureSets(train, test, { seeds: [0, 1, 2, 3, 4], fprTargets: [0.01] });
    const weakest = (x: typeof e) => Math.min(...Object.values(x.detection['1%']!.perEpisode).map((s) => s.mean));
    const ours = all.find((x) => x.featureSet === DEFAULT_FLOW_FEATURES && x.log1p)!;
    expect(weakest(ours)).toBeCloseTo(weakest(e), 12);
    for (const x of all) expect([x.featureSet, x.log1p, weakest(x) <= weakest(ours)]).toEqual([x.featureSet, x.log1p, true]);
  }, 120_000);
});
