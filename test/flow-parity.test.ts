/**
 * The flow meter against nfstream 6.6.0 on real captures (test/fixtures/flows/*.pcap,
 * made by scripts/fixtures/flow_captures.sh, and the traffic lab's captures
 * data/lab/normal.pcap.gz and mixed.pcap.gz; the expected flows by
 * scripts/fixtures/nfstream_flows.py): the same flows, in the same order, with the same
 * value in every nfstream field (integers exactly, floats to 1e-6 relative).
 */
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFlows } from '../src/capture/flow-input';
import type { FlowRecord } from '../src/capture/flow-record';

const DIR = join(__dirname, 'fixtures', 'flows');

interface Expected {
  nfstream: string;
  source: string;
  /** flows as objects, or (the lab capture, gzip) as columns and rows */
  runs: Array<{ idle_timeout_s: number; active_timeout_s: number; flows?: Array<Record<string, number | string>>; columns?: string[]; rows?: Array<Array<number | string>> }>;
}

function flowsOf(run: Expected['runs'][number]): Array<Record<string, number | string>> {
  if (run.flows) return run.flows;
  return run.rows!.map((r) => Object.fromEntries(run.columns!.map((c, j) => [c, r[j]!])));
}

async function meter(path: string, idleS: number, activeS: number): Promise<FlowRecord[]> {
  const flows: FlowRecord[] = [];
  await readFlows(createReadStream(path), (f) => flows.push(f), {
    name: path,
    windows: false,
    meter: { idleTimeoutMs: idleS * 1000, activeTimeoutMs: activeS * 1000 },
  });
  return flows;
}

function mismatches(ours: FlowRecord[], theirs: Array<Record<string, number | string>>): string[] {
  const out: string[] = [];
  if (ours.length !== theirs.length) out.push(`${ours.length} flows, nfstream ${theirs.length}`);
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    for (const [k, v] of Object.entries(theirs[i]!)) {
      const o = ours[i]![k];
      const same = typeof v === 'number' && typeof o === 'number' ? (Number.isInteger(v) ? o === v : Math.abs(o - v) <= 1e-6 * Math.max(1, Math.abs(v))) : o === v;
      if (!same) out.push(`flow ${i} ${theirs[i]!.src_ip}:${theirs[i]!.src_port}->${theirs[i]!.dst_ip}:${theirs[i]!.dst_port}/${theirs[i]!.protocol} ${k}: ours ${o}, nfstream ${v}`);
    }
  }
  return out.slice(0, 20);
}

const captures = readdirSync(DIR).filter((f) => f.endsWith('.nfstream.json') || f.endsWith('.nfstream.json.gz'));

describe('flow meter = nfstream 6.6.0', () => {
  it('has parity fixtures', () => expect(captures.length).toBeGreaterThanOrEqual(2));
  for (const file of captures) {
    const bytes = readFileSync(join(DIR, file));
    const expected = JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as Expected;
    for (const run of expected.runs) {
      const theirs = flowsOf(run);
      it(`${expected.source}, idle ${run.idle_timeout_s} s, active ${run.active_timeout_s} s: ${theirs.length} flows`, async () => {
        const ours = await meter(join(DIR, expected.source), run.idle_timeout_s, run.active_timeout_s);
        expect(mismatches(ours, theirs)).toEqual([]);
      });
    }
  }
});
