/**
 * The flow meter against nfstream 6.6.0 on real captures (test/fixtures/flows/*.pcap,
 * made by scripts/fixtures/flow_captures.sh; the expected flows by
 * scripts/fixtures/nfstream_flows.py): the same flows, in the same order, with the same
 * value in every nfstream field (integers exactly, floats to 1e-6 relative).
 */
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFlows } from '../src/capture/flow-input';
import type { FlowRecord } from '../src/capture/flow-record';

const DIR = join(__dirname, 'fixtures', 'flows');

interface Expected {
  nfstream: string;
  source: string;
  runs: Array<{ idle_timeout_s: number; active_timeout_s: number; flows: Array<Record<string, number | string>> }>;
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

const captures = readdirSync(DIR).filter((f) => f.endsWith('.nfstream.json'));

describe('flow meter = nfstream 6.6.0', () => {
  it('has parity fixtures', () => expect(captures.length).toBeGreaterThanOrEqual(2));
  for (const file of captures) {
    const expected = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Expected;
    for (const run of expected.runs) {
      it(`${expected.source}, idle ${run.idle_timeout_s} s, active ${run.active_timeout_s} s: ${run.flows.length} flows`, async () => {
        const ours = await meter(join(DIR, expected.source), run.idle_timeout_s, run.active_timeout_s);
        expect(mismatches(ours, run.flows)).toEqual([]);
      });
    }
  }
});
