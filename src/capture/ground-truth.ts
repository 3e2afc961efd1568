/**
 * Ground truth for a capture: which flows belong to which attack episode. A lab run
 * (npm run traffic-lab) writes it beside its captures as CSV with the header
 * `capture,episode,tool,src_ip,start_ms,end_ms` (epoch ms). A flow belongs to an
 * episode when the episode's address is one of its two endpoints and its first packet
 * falls inside the episode's window; every other flow is normal.
 */
import { readTextFile } from '../data/textfile';
import type { FlowRecord } from './flow-record';

/** one attack episode of a capture */
export interface Episode {
  /** the capture it belongs to ("mixed", or a file name: compared without folder and extensions, see {@link captureName}) */
  capture: string;
  /** its name ("syn-scan"), the label of its flows */
  episode: string;
  /** the program that made it ("nmap -sS") */
  tool: string;
  /** the attacker's address */
  srcIp: string;
  startMs: number;
  endMs: number;
}

/** A truth file that cannot be read as episodes; the message names the file, line and value. */
export class GroundTruthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroundTruthError';
  }
}

const HEADER = ['capture', 'episode', 'tool', 'src_ip', 'start_ms', 'end_ms'];

/** Parses truth CSV text (see the module comment); `source` names it in errors. */
export function parseGroundTruth(text: string, source: string): Episode[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((s) => s.trim());
  if (HEADER.some((h, i) => header[i] !== h)) {
    throw new GroundTruthError(`${source}: line 1 must be the header ${HEADER.join(',')}, got ${JSON.stringify(lines[0] ?? '')}`);
  }
  const episodes: Episode[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const f = line.split(',');
    if (f.length !== HEADER.length) throw new GroundTruthError(`${source}: line ${i + 1} has ${f.length} fields, expected ${HEADER.length}`);
    const startMs = Number(f[4]);
    const endMs = Number(f[5]);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
      throw new GroundTruthError(`${source}: line ${i + 1}: start_ms ${JSON.stringify(f[4])} and end_ms ${JSON.stringify(f[5])} are not a time window`);
    }
    episodes.push({ capture: f[0]!.trim(), episode: f[1]!.trim(), tool: f[2]!.trim(), srcIp: f[3]!.trim(), startMs, endMs });
  }
  return episodes;
}

/** Reads a truth file (plain or .gz). */
export function readGroundTruth(path: string): Episode[] {
  return parseGroundTruth(readTextFile(path), path);
}

/** a capture's name without folder and extensions: "data/lab/mixed.pcap.gz" and "mixed" name the same capture */
export function captureName(path: string): string {
  return path.replace(/^.*[\\/]/, '').replace(/\.gz$/i, '').replace(/\.(pcapng|pcap|log|json|ndjson)$/i, '');
}

/**
 * The label of each flow: the name of its episode, or `normal`. Only the episodes of
 * `capture` count when it is given (a truth file may describe several captures; names
 * are compared by {@link captureName}).
 */
export function labelFlows(flows: readonly FlowRecord[], episodes: readonly Episode[], capture?: string): string[] {
  const mine = capture === undefined ? episodes : episodes.filter((e) => captureName(e.capture) === captureName(capture));
  return flows.map((f) => {
    const t = Number(f.bidirectional_first_seen_ms);
    for (const e of mine) {
      if ((f.src_ip === e.srcIp || f.dst_ip === e.srcIp) && t >= e.startMs && t <= e.endMs) return e.episode;
    }
    return 'normal';
  });
}
