/**
 * Window features: for each flow, counts and rates over the flows that came before it,
 * as NSL-KDD defines its "traffic" features. A port scan, a SYN flood or a password
 * brute force is a run of flows that each look ordinary; in these windows they are
 * obvious (hundreds of connections to one host in two seconds, most of them refused).
 *
 * Definitions (the current flow is counted in its own windows, so counts are >= 1 and
 * every rate is defined):
 * - "same service" means the same destination port and protocol;
 * - a SYN error is a TCP flow with a SYN whose handshake never completed, other than a
 *   refused one (KDD's S0-S3 family: half-open connections, as a SYN flood or a SYN
 *   scan's probes of open ports leave them; `tcp_established` 0 and a state other than
 *   REJ or OTH); a reject is REJ (a SYN answered by RST: a closed port);
 * - time window: the flows whose first packet is at most 2 s before the newest first
 *   packet seen so far (the window clock, which never goes back);
 *   `count` / `srv_count`: flows to the same destination host / the same service;
 *   `serror_rate`, `rerror_rate`: of `count`; `srv_serror_rate`, `srv_rerror_rate`: of
 *   `srv_count`; `same_srv_rate` / `diff_srv_rate`: of `count`, the same / another
 *   service; `srv_diff_host_rate`: of `srv_count`, to another host;
 *   ours, about the flow's source rather than its destination: `src_dst_port_count`
 *   distinct destination ports the source used, `src_count` its flows, and
 *   `src_serror_rate` / `src_rerror_rate` of those. A flood or a scan raises the
 *   destination's counts for every flow to that host, its own and everyone else's;
 *   the source's counts rise only for the attacker's flows;
 * - connection window: the last 100 flows; `dst_host_count`: to the same destination
 *   host; `dst_host_srv_count`: to the same service; `dst_host_same_srv_rate`,
 *   `dst_host_diff_srv_rate`, `dst_host_same_src_port_rate`, `dst_host_serror_rate`,
 *   `dst_host_rerror_rate`: of `dst_host_count`; `dst_host_srv_diff_host_rate`,
 *   `dst_host_srv_serror_rate`, `dst_host_srv_rerror_rate`: of `dst_host_srv_count`;
 *   ours: `src_host_count`, the flows from this flow's source, and
 *   `src_host_serror_rate` / `src_host_rerror_rate` of those (a slow scan spreads over
 *   more than 2 s, but it still fills the last 100 flows).
 *
 * Flows are taken in the order they are emitted (the meter's expiry order), so the
 * features of a capture are the same on every run; a probe that computes flows keeps
 * this state where the packets are.
 */
import type { FlowRecord } from './flow-record';

export interface WindowOptions {
  /** the time window in ms (KDD: 2 s) */
  timeWindowMs?: number;
  /** the time window of the source features (`src_*`) in ms (default: the same as timeWindowMs) */
  sourceWindowMs?: number;
  /** the connection window in flows (KDD: 100) */
  connectionWindow?: number;
}

/** states with no SYN from the originator (OTH: midstream) or a refusal (REJ: counted as a reject) */
const NOT_SERROR = new Set(['REJ', 'OTH', 'RSTRH', 'SHR']);

interface Entry {
  time: number;
  host: string;
  service: string;
  hostService: string;
  src: string;
  srcPort: number;
  dstPort: number;
  serror: number;
  rerror: number;
}

class Tally {
  n = 0;
  serror = 0;
  rerror = 0;
}

function bump(map: Map<string, Tally>, key: string, e: Entry, by: 1 | -1): Tally {
  let t = map.get(key);
  if (t === undefined) {
    t = new Tally();
    map.set(key, t);
  }
  t.n += by;
  t.serror += by * e.serror;
  t.rerror += by * e.rerror;
  if (t.n === 0) map.delete(key);
  return t;
}

/** Adds the window features (capture/flow-record.ts WINDOW_FIELDS) to flow records, in emission order. */
export class WindowFeatures {
  private readonly span: number;
  private readonly size: number;
  private readonly recent: Entry[] = [];
  /** the source window's own queue (it may be longer than the destination's) */
  private readonly recentSrc: Entry[] = [];
  private headSrc = 0;
  private readonly sourceSpan: number;
  private head = 0;
  private clock = -Infinity;
  private readonly byHost = new Map<string, Tally>();
  private readonly byService = new Map<string, Tally>();
  private readonly bySource = new Map<string, Tally>();
  private readonly byHostService = new Map<string, number>();
  private readonly portsBySource = new Map<string, Map<number, number>>();
  private readonly last: Entry[] = [];
  private lastNext = 0;

  constructor(options: WindowOptions = {}) {
    this.span = options.timeWindowMs ?? 2000;
    this.sourceSpan = options.sourceWindowMs ?? this.span;
    if (!(this.sourceSpan > 0)) throw new RangeError(`window sizes must be positive (source ${this.sourceSpan} ms)`);
    this.size = options.connectionWindow ?? 100;
    if (!(this.span > 0) || !Number.isInteger(this.size) || this.size < 1) {
      throw new RangeError(`window sizes must be positive (time ${this.span} ms, connections ${this.size})`);
    }
  }

  /** Sets the window fields of `flow` (in place) and adds it to the windows. */
  add(flow: FlowRecord): FlowRecord {
    const state = String(flow.conn_state);
    const e: Entry = {
      time: Number(flow.bidirectional_first_seen_ms),
      host: String(flow.dst_ip),
      service: `${flow.protocol}/${flow.dst_port}`,
      hostService: '',
      src: String(flow.src_ip),
      srcPort: Number(flow.src_port),
      dstPort: Number(flow.dst_port),
      serror: flow.protocol === 6 && flow.tcp_established === 0 && !NOT_SERROR.has(state) ? 1 : 0,
      rerror: state === 'REJ' ? 1 : 0,
    };
    e.hostService = `${e.host}|${e.service}`;
    if (e.time > this.clock) this.clock = e.time;
    this.expire();
    this.recent.push(e);
    this.recentSrc.push(e);
    const host = bump(this.byHost, e.host, e, 1);
    const service = bump(this.byService, e.service, e, 1);
    const source = bump(this.bySource, e.src, e, 1);
    const sameHostService = (this.byHostService.get(e.hostService) ?? 0) + 1;
    this.byHostService.set(e.hostService, sameHostService);
    let ports = this.portsBySource.get(e.src);
    if (ports === undefined) {
      ports = new Map();
      this.portsBySource.set(e.src, ports);
    }
    ports.set(e.dstPort, (ports.get(e.dstPort) ?? 0) + 1);

    flow.count = host.n;
    flow.srv_count = service.n;
    flow.serror_rate = host.serror / host.n;
    flow.srv_serror_rate = service.serror / service.n;
    flow.rerror_rate = host.rerror / host.n;
    flow.srv_rerror_rate = service.rerror / service.n;
    flow.same_srv_rate = sameHostService / host.n;
    flow.diff_srv_rate = (host.n - sameHostService) / host.n;
    flow.srv_diff_host_rate = (service.n - sameHostService) / service.n;
    flow.src_dst_port_count = ports.size;
    flow.src_count = source.n;
    flow.src_serror_rate = source.serror / source.n;
    flow.src_rerror_rate = source.rerror / source.n;

    // the connection window: the last `size` flows, this one included
    if (this.last.length < this.size) this.last.push(e);
    else this.last[this.lastNext] = e;
    this.lastNext = (this.lastNext + 1) % this.size;
    let hostN = 0;
    let srvN = 0;
    let hostSameSrv = 0;
    let hostSameSrcPort = 0;
    let hostSerror = 0;
    let hostRerror = 0;
    let srvSerror = 0;
    let srvRerror = 0;
    let srvDiffHost = 0;
    let srcN = 0;
    let srcSerror = 0;
    let srcRerror = 0;
    for (const o of this.last) {
      if (o.src === e.src) {
        srcN++;
        srcSerror += o.serror;
        srcRerror += o.rerror;
      }
      const sameHost = o.host === e.host;
      const sameSrv = o.service === e.service;
      if (sameHost) {
        hostN++;
        if (sameSrv) hostSameSrv++;
        if (o.srcPort === e.srcPort) hostSameSrcPort++;
        hostSerror += o.serror;
        hostRerror += o.rerror;
      }
      if (sameSrv) {
        srvN++;
        if (!sameHost) srvDiffHost++;
        srvSerror += o.serror;
        srvRerror += o.rerror;
      }
    }
    flow.dst_host_count = hostN;
    flow.dst_host_srv_count = srvN;
    flow.dst_host_same_srv_rate = hostSameSrv / hostN;
    flow.dst_host_diff_srv_rate = (hostN - hostSameSrv) / hostN;
    flow.dst_host_same_src_port_rate = hostSameSrcPort / hostN;
    flow.dst_host_srv_diff_host_rate = srvDiffHost / srvN;
    flow.dst_host_serror_rate = hostSerror / hostN;
    flow.dst_host_srv_serror_rate = srvSerror / srvN;
    flow.dst_host_rerror_rate = hostRerror / hostN;
    flow.dst_host_srv_rerror_rate = srvRerror / srvN;
    flow.src_host_count = srcN;
    flow.src_host_serror_rate = srcSerror / srcN;
    flow.src_host_rerror_rate = srcRerror / srcN;
    return flow;
  }

  /** drops the flows that fell out of the time window (in emission order) */
  private expire(): void {
    const from = this.clock - this.span;
    while (this.head < this.recent.length && this.recent[this.head]!.time < from) {
      const old = this.recent[this.head]!;
      this.head++;
      bump(this.byHost, old.host, old, -1);
      bump(this.byService, old.service, old, -1);
      const hs = this.byHostService.get(old.hostService)! - 1;
      if (hs === 0) this.byHostService.delete(old.hostService);
      else this.byHostService.set(old.hostService, hs);
    }
    const fromSrc = this.clock - this.sourceSpan;
    while (this.headSrc < this.recentSrc.length && this.recentSrc[this.headSrc]!.time < fromSrc) {
      const old = this.recentSrc[this.headSrc]!;
      this.headSrc++;
      bump(this.bySource, old.src, old, -1);
      const ports = this.portsBySource.get(old.src)!;
      const n = ports.get(old.dstPort)! - 1;
      if (n === 0) ports.delete(old.dstPort);
      else ports.set(old.dstPort, n);
      if (ports.size === 0) this.portsBySource.delete(old.src);
    }
    // keep the arrays from growing without bound: compact once half of one is expired
    if (this.head > 4096 && this.head * 2 > this.recent.length) {
      this.recent.splice(0, this.head);
      this.head = 0;
    }
    if (this.headSrc > 4096 && this.headSrc * 2 > this.recentSrc.length) {
      this.recentSrc.splice(0, this.headSrc);
      this.headSrc = 0;
    }
  }
}
