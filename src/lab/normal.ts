/**
 * Normal traffic: ten client hosts, each with its own habits (how often it
 * acts, what it mostly does), driven by a seeded schedule. The schedule is an
 * endless sequence per client drawn from the project's seeded RNG (stream
 * `lab/normal/<capture>/<client>`), so the same seed gives the same requests
 * in the same order at the same offsets, however long the capture lasts.
 *
 * Every action is one real client program run in the client's namespace:
 * curl for pages (1-3 per connection), logins with the right password and
 * small uploads (names resolved through the lab's DNS), dig for lookups, and
 * redis-cli (or valkey-cli) for GET/SET/INCR.
 */
import { createRng, type Rng } from '../core/rng';
import { LAB_PASSWORD, LAB_PAGES, LAB_USER } from './http-server';
import { lastLine, ProcessSet, sleep } from './processes';
import { SERVER_IP, LAB_PREFIX, type LabHost } from './topology';

export type NormalKind = 'page' | 'login' | 'dns' | 'redis' | 'upload';
const KINDS: readonly NormalKind[] = ['page', 'login', 'dns', 'redis', 'upload'];

export interface ClientProfile {
  name: string;
  ip: string;
  /** mean time between two actions (exponential gaps) */
  meanGapMs: number;
  /** relative weights of page, login, dns, redis, upload */
  weights: readonly [number, number, number, number, number];
  userAgent: string;
}

export const NORMAL_CLIENTS: readonly ClientProfile[] = [
  { name: 'c1', ip: `${LAB_PREFIX}.11`, meanGapMs: 1600, weights: [6, 1, 2, 0, 1], userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0' },
  { name: 'c2', ip: `${LAB_PREFIX}.12`, meanGapMs: 2200, weights: [5, 2, 2, 0, 1], userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36' },
  { name: 'c3', ip: `${LAB_PREFIX}.13`, meanGapMs: 3000, weights: [4, 1, 4, 0, 0], userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 Safari/605.1.15' },
  { name: 'c4', ip: `${LAB_PREFIX}.14`, meanGapMs: 1200, weights: [1, 0, 1, 8, 0], userAgent: 'lab-worker/1.0' },
  { name: 'c5', ip: `${LAB_PREFIX}.15`, meanGapMs: 2500, weights: [3, 1, 2, 3, 1], userAgent: 'curl/7.88.1' },
  { name: 'c6', ip: `${LAB_PREFIX}.16`, meanGapMs: 1800, weights: [5, 1, 3, 0, 1], userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
  { name: 'c7', ip: `${LAB_PREFIX}.17`, meanGapMs: 2600, weights: [4, 2, 2, 0, 0], userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148' },
  { name: 'c8', ip: `${LAB_PREFIX}.18`, meanGapMs: 1400, weights: [1, 0, 2, 7, 0], userAgent: 'lab-worker/1.0' },
  { name: 'c9', ip: `${LAB_PREFIX}.19`, meanGapMs: 2000, weights: [4, 1, 3, 1, 1], userAgent: 'python-requests/2.31.0' },
  { name: 'c10', ip: `${LAB_PREFIX}.20`, meanGapMs: 3200, weights: [6, 1, 1, 0, 2], userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0' },
];

/** Sizes of the files normal clients upload (created once per run, seeded content). */
export const NORMAL_UPLOAD_SIZES: readonly number[] = [16 * 1024, 64 * 1024, 200 * 1024];

const DNS_QUESTIONS: readonly (readonly [string, string])[] = [
  ['www.lab.internal', 'A'],
  ['api.lab.internal', 'A'],
  ['cache.lab.internal', 'A'],
  ['files.lab.internal', 'A'],
  ['mail.lab.internal', 'A'],
  ['lab.internal', 'MX'],
  ['lab.internal', 'TXT'],
  ['www.lab.internal', 'AAAA'],
  ['wiki.lab.internal', 'A'], // not a record: NXDOMAIN, as real clients see now and then
];

export interface NormalEvent {
  /** offset from the start of the traffic */
  atMs: number;
  client: string;
  kind: NormalKind;
  /** page: the paths fetched over one connection */
  pages?: string[];
  /** dns: the questions of one dig call */
  questions?: (readonly [string, string])[];
  /** redis: the commands of one client connection */
  redis?: string[];
  /** upload: which of NORMAL_UPLOAD_SIZES */
  uploadIndex?: number;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function weighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** The client's endless seeded schedule for one capture. */
export function* clientEvents(seed: number, capture: string, profile: ClientProfile): Generator<NormalEvent> {
  const rng = createRng(seed, `lab/normal/${capture}/${profile.name}`);
  let at = 0;
  for (;;) {
    at += Math.round(-Math.log(1 - rng.next()) * profile.meanGapMs) + 50;
    const kind = KINDS[weighted(rng, profile.weights)];
    const ev: NormalEvent = { atMs: at, client: profile.name, kind };
    if (kind === 'page') {
      const n = 1 + rng.int(3);
      ev.pages = Array.from({ length: n }, () => pick(rng, LAB_PAGES));
    } else if (kind === 'dns') {
      const n = 1 + rng.int(2);
      ev.questions = Array.from({ length: n }, () => pick(rng, DNS_QUESTIONS));
    } else if (kind === 'redis') {
      const user = 1 + rng.int(50);
      const cmds = [`GET user:${user}`];
      if (rng.next() < 0.5) cmds.push(`SET session:${profile.name}:${rng.int(1000)} t${rng.int(1e9)} EX 300`);
      if (rng.next() < 0.4) cmds.push(`INCR page:views:${1 + rng.int(24)}`);
      if (rng.next() < 0.3) cmds.push(`LPUSH recent:${profile.name} item${rng.int(1000)}`, `LTRIM recent:${profile.name} 0 49`);
      ev.redis = cmds;
    } else if (kind === 'upload') {
      ev.uploadIndex = rng.int(NORMAL_UPLOAD_SIZES.length);
    }
    yield ev;
  }
}

export interface NormalContext {
  /** the Redis command-line client */
  redisCli: string;
  /** upload file per NORMAL_UPLOAD_SIZES index */
  uploadFiles: readonly string[];
}

/** The program and arguments that perform one event from the client's own namespace. */
export function normalCommand(ev: NormalEvent, profile: ClientProfile, ctx: NormalContext): { command: string; args: string[]; input?: string } {
  const curl = ['-sS', '--fail', '--max-time', '15', '--interface', profile.ip, '-A', profile.userAgent];
  const site = 'http://www.lab.internal';
  switch (ev.kind) {
    case 'page':
      return { command: 'curl', args: [...curl, ...ev.pages!.flatMap((p) => ['-o', '/dev/null', `${site}${p}`])] };
    case 'login':
      return {
        command: 'curl',
        args: [...curl, '-o', '/dev/null', '-d', `user=${LAB_USER}`, '-d', `password=${LAB_PASSWORD}`, `${site}/login`, '--next', ...curl, '-o', '/dev/null', `${site}/account`],
      };
    case 'upload':
      return { command: 'curl', args: [...curl, '-o', '/dev/null', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${ctx.uploadFiles[ev.uploadIndex!]}`, `${site}/upload`] };
    case 'dns':
      return { command: 'dig', args: [`@${SERVER_IP}`, '-b', profile.ip, '+tries=1', '+time=3', '+short', ...ev.questions!.flatMap(([name, type]) => [name, type])] };
    case 'redis':
      return { command: ctx.redisCli, args: ['-h', SERVER_IP, '-p', '6379'], input: `${ev.redis!.join('\n')}\n` };
  }
}

export interface NormalStats {
  events: number;
  failed: number;
  byKind: Record<NormalKind, number>;
  firstFailure?: string;
}

/**
 * Runs the clients' schedules from {@link start} until {@link stop}; every
 * action in flight when stop() is called is awaited, so the capture that
 * surrounds it holds whole connections.
 */
export class NormalTraffic {
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();
  private loops: Promise<void>[] = [];
  readonly stats: NormalStats = { events: 0, failed: 0, byKind: { page: 0, login: 0, dns: 0, redis: 0, upload: 0 } };

  constructor(
    private readonly procs: ProcessSet,
    private readonly hosts: ReadonlyMap<string, LabHost>,
    private readonly ctx: NormalContext,
    private readonly seed: number,
    private readonly capture: string,
  ) {}

  /**
   * @param untilMs - launch only the actions scheduled before this offset: a
   *   capture of fixed length then holds the same actions on every run
   */
  start(untilMs = Infinity): void {
    const t0 = Date.now();
    this.loops = NORMAL_CLIENTS.map((profile) => this.clientLoop(profile, t0, untilMs));
  }

  private async clientLoop(profile: ClientProfile, t0: number, untilMs: number): Promise<void> {
    const host = this.hosts.get(profile.name)!;
    for (const ev of clientEvents(this.seed, this.capture, profile)) {
      if (ev.atMs >= untilMs) return;
      while (!this.stopped && Date.now() < t0 + ev.atMs) await sleep(Math.min(200, t0 + ev.atMs - Date.now()));
      if (this.stopped) return;
      const { command, args, input } = normalCommand(ev, profile, this.ctx);
      const p = this.procs.run(command, args, { netnsPid: host.holderPid, input, timeoutMs: 20_000 }).then((r) => {
        this.stats.events++;
        this.stats.byKind[ev.kind]++;
        if (r.code !== 0) {
          this.stats.failed++;
          this.stats.firstFailure ??= `${profile.name} ${ev.kind}: ${command.split('/').pop()} ${r.timedOut ? 'timed out' : `exited with ${r.code ?? r.signal}`}${lastLine(r.stderr, r.stdout) ? `: ${lastLine(r.stderr, r.stdout)}` : ''}`;
        }
      });
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
  }

  /** Stop scheduling, wait for the actions in flight. */
  async stop(): Promise<NormalStats> {
    this.stopped = true;
    await Promise.all(this.loops);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    return this.stats;
  }
}
