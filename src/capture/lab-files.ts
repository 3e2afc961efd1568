/**
 * Where the traffic lab's shipped run lives (data/lab: `normal.pcap.gz`, `mixed.pcap.gz`,
 * `truth.csv`, made by `npm run traffic-lab`), or another lab run's folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../core/paths';

/** the environment variable that points notebook 12 at another lab run's folder */
export const LAB_DIR_ENV = 'TRAFFIC_LAB_DIR';
export const LAB_DATA_DIR = join(PROJECT_ROOT, 'data', 'lab');

export interface LabFiles {
  dir: string;
  /** the normal-only capture */
  normal: string;
  /** normal traffic and the attack episodes */
  mixed: string;
  /** the episodes: capture,episode,tool,src_ip,start_ms,end_ms */
  truth: string;
}

/**
 * The lab files of `dir` (default: $TRAFFIC_LAB_DIR, else data/lab), each as `name` or `name.gz`.
 *
 * @throws Error naming the folder and the file when one is missing
 */
export function labFiles(dir = process.env[LAB_DIR_ENV] || LAB_DATA_DIR): LabFiles {
  const find = (name: string): string => {
    for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
    throw new Error(`the lab folder ${dir} has no ${name} (nor ${name}.gz): run npm run traffic-lab -- --out ${dir}`);
  };
  return { dir, normal: find('normal.pcap'), mixed: find('mixed.pcap'), truth: find('truth.csv') };
}
