/**
 * The flow meter: decoded packets in, bidirectional flows out, with nfstream 6.6's
 * semantics so that its flows can be compared one for one (test/flow-parity.test.ts):
 *
 * - a flow is keyed by the unordered pair of (address, port) endpoints, the protocol and
 *   the VLAN id; its source is the sender of its first packet;
 * - time is nfstream's millisecond tick, forced to be monotonic (a packet older than the
 *   newest one seen is stamped with the newest time);
 * - a packet arriving at least `idleTimeoutMs` after its flow's last packet, or at least
 *   `activeTimeoutMs` after its first, ends that flow (expiration_id 0 or 1) and starts a
 *   new one; every 10 ms of tick, flows idle for `idleTimeoutMs` are expired in the
 *   order they were created, stopping at the first one still active (nfstream's cache
 *   keeps creation order; at most 1000 per scan); at the end of the capture every flow
 *   left is expired, oldest created first;
 * - packet-size and inter-arrival statistics use nfstream's running mean and sum of
 *   squares in the same order of operations, so means and standard deviations are the
 *   same doubles; sizes are counted in nfstream's accounting modes (default: the frame's
 *   length on the wire, nfstream's accounting_mode=0).
 *
 * There is no TCP "natural" expiry (FIN/RST do not end a flow): nfstream 6.6 has none.
 * The meter adds what nfstream does not define: a Zeek-style connection state and the
 * service guessed from the port.
 */
import type { DecodedPacket } from './packet';
import { TcpFlag } from './packet';
import type { FlowRecord } from './flow-record';
import { serviceByPort } from './services';

/** which size a packet counts for (nfstream's accounting_mode 0..3) */
export type Accounting = 'link' | 'ip' | 'transport' | 'payload';

export interface FlowMeterOptions {
  /** ms; a flow idle this long expires (nfstream: idle_timeout=120 s) */
  idleTimeoutMs?: number;
  /** ms; a flow this old expires at its next packet (nfstream: active_timeout=1800 s) */
  activeTimeoutMs?: number;
  /** which packet size the byte and size statistics count (default 'link', nfstream's default) */
  accounting?: Accounting;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
export const DEFAULT_ACTIVE_TIMEOUT_MS = 1_800_000;
/** nfstream scans for idle flows every 10 ms of packet time ... */
const SCAN_INTERVAL_MS = 10;
/** ... and expires at most this many per scan */
const SCAN_BUDGET = 1000;

// TCP history bits for the connection state (which side did what, in which order)
const H_ORIG_SYN = 1;
const H_RESP_SYNACK = 2;
const H_ORIG_ACK = 4; // an ACK from the originator after the responder's SYN-ACK: established
const H_ORIG_FIN = 8;
const H_RESP_FIN = 16;
const H_ORIG_RST = 32;
const H_RESP_RST = 64;
const H_RESP_SYN_ONLY = 128; // the responder sent a SYN-ACK before any originator SYN was seen

/**
 * One direction's running statistics of a flow (bidirectional, src2dst or
 * dst2src): first and last packet time, packets, bytes, and the minimum, mean,
 * M2 (Welford's sum of squared deviations) and maximum of the packet sizes and
 * of the inter-arrival times. The same statements, in the same order, as
 * nfstream's C code, so the doubles come out the same.
 */
class DirectionStats {
  first = 0;
  last = 0;
  packets = 0;
  bytes = 0;
  minPs = 0;
  meanPs = 0;
  m2Ps = 0;
  maxPs = 0;
  minPiat = 0;
  meanPiat = 0;
  m2Piat = 0;
  maxPiat = 0;

  /** the direction's first packet */
  start(t: number, size: number): void {
    this.first = this.last = t;
    this.packets = 1;
    this.bytes = size;
    this.minPs = this.meanPs = this.maxPs = size;
  }

  /** a later packet of the direction */
  add(t: number, size: number): void {
    const piat = t - this.last;
    this.packets++;
    this.last = t;
    this.bytes += size;
    if (size > this.maxPs) this.maxPs = size;
    if (size < this.minPs) this.minPs = size;
    let mean = this.meanPs;
    this.meanPs += (size - mean) / this.packets;
    this.m2Ps += (size - mean) * (size - this.meanPs);
    if (this.packets === 2) {
      this.minPiat = this.meanPiat = this.maxPiat = piat;
    } else {
      if (piat > this.maxPiat) this.maxPiat = piat;
      if (piat < this.minPiat) this.minPiat = piat;
      mean = this.meanPiat;
      this.meanPiat += (piat - mean) / (this.packets - 1);
      this.m2Piat += (piat - mean) * (piat - this.meanPiat);
    }
  }

  reset(): void {
    this.first = this.last = this.packets = this.bytes = 0;
    this.minPs = this.meanPs = this.m2Ps = this.maxPs = 0;
    this.minPiat = this.meanPiat = this.m2Piat = this.maxPiat = 0;
  }
}

/** One flow being metered: nfstream's C structure, as a fixed-shape object. */
class Flow {
  // identity
  ipVersion = 0;
  protocol = 0;
  vlanId = 0;
  // addresses as 4 words each, and plain arrays below: a small typed array per flow costs
  // V8 an ArrayBuffer each, and the garbage collector a third of a run (measured)
  readonly srcIp: number[] = [0, 0, 0, 0];
  readonly dstIp: number[] = [0, 0, 0, 0];
  srcPort = 0;
  dstPort = 0;
  expirationId = 0;
  // creation-order list (nfstream's cache order: oldest created first)
  prev: Flow | null = null;
  next: Flow | null = null;
  hash = 0;
  history = 0;

  /** the running statistics of the flow's three directions (nfstream's bidirectional_, src2dst_, dst2src_ fields) */
  readonly bi = new DirectionStats();
  readonly sd = new DirectionStats();
  readonly ds = new DirectionStats();

  /** flag counts: [direction 0 bi, 1 src2dst, 2 dst2src][flag in nfstream's order syn,cwr,ece,urg,ack,psh,rst,fin] */
  readonly flags: number[] = new Array<number>(24).fill(0);

  /** every counter back to 0, for reuse from the meter's pool (links and hash are set by the meter) */
  reset(): void {
    this.ipVersion = 0;
    this.protocol = 0;
    this.vlanId = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.expirationId = 0;
    this.hash = 0;
    this.history = 0;
    this.bi.reset();
    this.sd.reset();
    this.ds.reset();
    this.flags.fill(0);
  }
}

/**
 * Flows ended are kept for reuse, up to this many: in a flow-heavy capture (scans,
 * floods) a flow lives through many young-generation collections and is promoted
 * before it expires, so allocating one per flow turns into old-generation garbage.
 */
const POOL_LIMIT = 1 << 16;


/** counts the packet's flags in nfstream's order (syn, cwr, ece, urg, ack, psh, rst, fin), without a loop */
function addFlags(counts: number[], base: number, flags: number): void {
  if (flags === 0) return;
  counts[base] += (flags >>> 1) & 1;
  counts[base + 1] += (flags >>> 7) & 1;
  counts[base + 2] += (flags >>> 6) & 1;
  counts[base + 3] += (flags >>> 5) & 1;
  counts[base + 4] += (flags >>> 4) & 1;
  counts[base + 5] += (flags >>> 3) & 1;
  counts[base + 6] += (flags >>> 2) & 1;
  counts[base + 7] += flags & 1;
}

function packetSize(p: DecodedPacket, accounting: number): number {
  // nfstream stores sizes in 16 bits: a 64 KB+ frame (offloading left on) wraps there too
  const size = accounting === 0 ? p.rawSize : accounting === 1 ? p.ipSize : accounting === 2 ? p.transportSize : p.payloadSize;
  return size & 0xffff;
}

const ACCOUNTING_CODE: Record<Accounting, number> = { link: 0, ip: 1, transport: 2, payload: 3 };

/**
 * The hash of a packet's flow, the same in both directions: each endpoint (address,
 * port) is hashed on its own and the two are combined with an order-free operation,
 * then mixed with the protocol and VLAN. No string is built per packet.
 */
function flowHash(p: DecodedPacket): number {
  const s = p.srcIp;
  const d = p.dstIp;
  const a = endpointHash(s[0]!, s[1]!, s[2]!, s[3]!, p.srcPort);
  const b = endpointHash(d[0]!, d[1]!, d[2]!, d[3]!, p.dstPort);
  let h = (a + b) ^ Math.imul(a ^ b, 0x27d4eb2d) ^ Math.imul(p.protocol | (p.vlanId << 8), 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ w1;
  h = Math.imul((h << 13) | (h >>> 19), 5) + w2;
  h = Math.imul(h ^ w3, 0xcc9e2d51) ^ port;
  h ^= h >>> 16;
  return Math.imul(h, 0x85ebca6b) | 0;
}

/** does packet `p` belong to flow `f` (either direction)? */
function sameFlow(f: Flow, p: DecodedPacket): boolean {
  if (f.protocol !== p.protocol || f.vlanId !== p.vlanId || f.ipVersion !== p.ipVersion) return false;
  const fs = f.srcIp;
  const fd = f.dstIp;
  const ps = p.srcIp;
  const pd = p.dstIp;
  if (f.srcPort === p.srcPort && f.dstPort === p.dstPort && fs[0] === ps[0] && fd[0] === pd[0] && fs[1] === ps[1] && fd[1] === pd[1] && fs[2] === ps[2] && fd[2] === pd[2] && fs[3] === ps[3] && fd[3] === pd[3]) return true;
  return f.srcPort === p.dstPort && f.dstPort === p.srcPort && fs[0] === pd[0] && fd[0] === ps[0] && fs[1] === pd[1] && fd[1] === ps[1] && fs[2] === pd[2] && fd[2] === ps[2] && fs[3] === pd[3] && fd[3] === ps[3];
}

/** the text of an address as inet_ntop writes it (IPv6 in RFC 5952's compressed form) */
export function formatAddress(version: number, words: ArrayLike<number>): string {
  if (version === 4) {
    const w = words[0]!;
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) groups.push(words[i]! >>> 16, words[i]! & 0xffff);
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms, as glibc's inet_ntop prints them
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const w = words[3]!;
    return `::ffff:${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  // the longest run of two or more zero groups becomes "::" (the first such run on a tie)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Zeek's connection state from what each side sent (Zeek's conn.log documents the
 * states; our approximation reads flags only, not sequence numbers): S0 a SYN and no
 * answer, REJ a SYN answered by RST, S1 established and still open, SF established and
 * closed (or, for UDP/ICMP, packets both ways), S2/S3 established with only the
 * originator's / responder's FIN, RSTO/RSTR established then reset by the originator /
 * responder, RSTOS0 SYN then RST from the originator with no answer, RSTRH a SYN-ACK
 * then RST from the responder with no SYN seen, SH a SYN then FIN with no answer, SHR
 * a SYN-ACK then FIN from the responder with no SYN seen, OTH no SYN seen (midstream).
 */
export function connectionState(protocol: number, history: number, dstPackets: number): string {
  if (protocol !== 6) return dstPackets > 0 ? 'SF' : 'S0';
  const origSyn = (history & H_ORIG_SYN) !== 0;
  const synAck = (history & H_RESP_SYNACK) !== 0;
  const established = origSyn && synAck && (history & H_ORIG_ACK) !== 0;
  const origFin = (history & H_ORIG_FIN) !== 0;
  const respFin = (history & H_RESP_FIN) !== 0;
  const origRst = (history & H_ORIG_RST) !== 0;
  const respRst = (history & H_RESP_RST) !== 0;
  if (!origSyn) {
    if ((history & H_RESP_SYN_ONLY) !== 0) {
      if (respRst) return 'RSTRH';
      if (respFin) return 'SHR';
    }
    return 'OTH';
  }
  if (!synAck) {
    if (respRst) return 'REJ';
    if (origRst) return 'RSTOS0';
    if (origFin) return 'SH';
    return 'S0';
  }
  if (origRst) return 'RSTO';
  if (respRst) return 'RSTR';
  if (!established) return 'S1';
  if (origFin && respFin) return 'SF';
  if (origFin) return 'S2';
  if (respFin) return 'S3';
  return 'S1';
}

function updateHistory(f: Flow, forward: boolean, flags: number): void {
  const syn = (flags & TcpFlag.SYN) !== 0;
  const ack = (flags & TcpFlag.ACK) !== 0;
  if (forward) {
    if (syn && !ack) f.history |= H_ORIG_SYN;
    else if (ack && (f.history & H_RESP_SYNACK) !== 0) f.history |= H_ORIG_ACK;
    if ((flags & TcpFlag.FIN) !== 0) f.history |= H_ORIG_FIN;
    if ((flags & TcpFlag.RST) !== 0) f.history |= H_ORIG_RST;
  } else {
    if (syn && ack) {
      f.history |= H_RESP_SYNACK;
      if ((f.history & H_ORIG_SYN) === 0) f.history |= H_RESP_SYN_ONLY;
    }
    if ((flags & TcpFlag.FIN) !== 0) f.history |= H_RESP_FIN;
    if ((flags & TcpFlag.RST) !== 0) f.history |= H_RESP_RST;
  }
}

/**
 * Meters packets into flows. Call {@link FlowMeter.packet} for each decoded packet in
 * capture order and {@link FlowMeter.finish} at the end; `onFlow` receives every flow as
 * it expires, as a {@link FlowRecord} (window fields not set: capture/windows.ts adds them).
 */
export class FlowMeter {
  /** open addressing with linear probing; a power-of-two number of slots, at most half full */
  private slots: Array<Flow | null> = new Array<Flow | null>(1024).fill(null);
  private mask = 1023;
  private open = 0;
  private head: Flow | null = null;
  private tail: Flow | null = null;
  private tick = 0;
  private scanTick = 0;
  private readonly idle: number;
  private readonly active: number;
  private readonly accounting: number;
  /** packets metered (every packet handed to `packet`) */
  packets = 0;
  /** flows emitted */
  emitted = 0;

  constructor(
    private readonly onFlow: (flow: FlowRecord) => void,
    options: FlowMeterOptions = {},
  ) {
    this.idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.active = options.activeTimeoutMs ?? DEFAULT_ACTIVE_TIMEOUT_MS;
    this.accounting = ACCOUNTING_CODE[options.accounting ?? 'link'];
    if (!(this.idle > 0) || !(this.active > 0)) throw new RangeError(`timeouts must be positive (idle ${this.idle} ms, active ${this.active} ms)`);
  }

  /** flows currently open */
  get activeFlows(): number {
    return this.open;
  }

  /** the meter's clock: the newest packet time seen, in ms */
  get clockMs(): number {
    return this.tick;
  }

  /** Meters one packet (its `timeMs` is raised to the meter's clock when older). */
  packet(p: DecodedPacket): void {
    this.packets++;
    if (p.timeMs > this.tick) this.tick = p.timeMs;
    else p.timeMs = this.tick;
    const hash = flowHash(p);
    let i = hash & this.mask;
    let flow: Flow | null;
    while ((flow = this.slots[i]!) !== null && (flow.hash !== hash || !sameFlow(flow, p))) i = (i + 1) & this.mask;
    if (flow === null) {
      this.create(hash, p);
    } else if (p.timeMs - flow.bi.last >= this.idle || p.timeMs - flow.bi.first >= this.active) {
      flow.expirationId = p.timeMs - flow.bi.last >= this.idle ? 0 : 1;
      this.unlink(flow);
      this.removeSlot(i);
      this.emit(flow);
      this.create(hash, p);
    } else {
      // no move to the end of the list: nfstream's cache keeps creation order (its
      // lookup does not reorder), so its idle scan stops at the oldest flow still active
      this.update(flow, p);
    }
    if (this.tick - this.scanTick >= SCAN_INTERVAL_MS) {
      this.scanTick = this.tick;
      this.scanIdle();
    }
  }

  /** Expires every open flow, oldest created first (the end of a capture). */
  finish(): void {
    while (this.head !== null) {
      const f = this.head;
      this.unlink(f);
      this.remove(f);
      this.emit(f);
    }
  }

  private scanIdle(): void {
    let scanned = 0;
    while (scanned < SCAN_BUDGET && this.head !== null && this.tick - this.idle >= this.head.bi.last) {
      const f = this.head;
      this.unlink(f);
      this.remove(f);
      this.emit(f);
      scanned++;
    }
  }

  private readonly pool: Flow[] = [];

  private create(hash: number, p: DecodedPacket): void {
    let f = this.pool.pop();
    if (f === undefined) f = new Flow();
    else f.reset();
    f.hash = hash;
    f.ipVersion = p.ipVersion;
    f.protocol = p.protocol;
    f.vlanId = p.vlanId;
    for (let i = 0; i < 4; i++) {
      f.srcIp[i] = p.srcIp[i]!;
      f.dstIp[i] = p.dstIp[i]!;
    }
    f.srcPort = p.srcPort;
    f.dstPort = p.dstPort;
    const size = packetSize(p, this.accounting);
    f.bi.start(p.timeMs, size);
    f.sd.start(p.timeMs, size);
    addFlags(f.flags, 0, p.tcpFlags);
    addFlags(f.flags, 8, p.tcpFlags);
    if (p.protocol === 6) updateHistory(f, true, p.tcpFlags);
    let i = hash & this.mask;
    while (this.slots[i] !== null) i = (i + 1) & this.mask;
    this.slots[i] = f;
    if (++this.open * 2 > this.slots.length) this.grow();
    this.append(f);
  }

  private update(f: Flow, p: DecodedPacket): void {
    const t = p.timeMs;
    const size = packetSize(p, this.accounting);
    // nfstream's direction: ports first, then addresses
    let forward = f.srcPort === p.srcPort && f.dstPort === p.dstPort;
    if (forward) {
      for (let i = 0; i < 4; i++) {
        if (f.srcIp[i] !== p.srcIp[i] || f.dstIp[i] !== p.dstIp[i]) {
          forward = false;
          break;
        }
      }
    }
    // nfstream's order: the bidirectional statistics, then the packet's direction
    f.bi.add(t, size);
    addFlags(f.flags, 0, p.tcpFlags);
    if (forward) {
      f.sd.add(t, size);
      addFlags(f.flags, 8, p.tcpFlags);
    } else {
      if (f.ds.packets === 0) f.ds.start(t, size);
      else f.ds.add(t, size);
      addFlags(f.flags, 16, p.tcpFlags);
    }
    if (p.protocol === 6) updateHistory(f, forward, p.tcpFlags);
  }

  private emit(f: Flow): void {
    this.emitted++;
    const record = flowRecordOf(f);
    if (this.pool.length < POOL_LIMIT) this.pool.push(f);
    this.onFlow(record);
  }

  // --- the hash table ----------------------------------------------------------
  private remove(f: Flow): void {
    let i = f.hash & this.mask;
    while (this.slots[i] !== f) i = (i + 1) & this.mask;
    this.removeSlot(i);
  }

  /** empties slot `i` and moves later entries of its probe run back (no tombstones) */
  private removeSlot(i: number): void {
    const slots = this.slots;
    const mask = this.mask;
    slots[i] = null;
    this.open--;
    let j = (i + 1) & mask;
    let f: Flow | null;
    while ((f = slots[j]!) !== null) {
      const home = f.hash & mask;
      // f may move to the hole at i when i lies cyclically between its home and j
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = f;
        slots[j] = null;
        i = j;
      }
      j = (j + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<Flow | null>(old.length * 2).fill(null);
    this.mask = this.slots.length - 1;
    for (const f of old) {
      if (f === null) continue;
      let i = f.hash & this.mask;
      while (this.slots[i] !== null) i = (i + 1) & this.mask;
      this.slots[i] = f;
    }
  }

  // --- creation-order list ---------------------------------------------------------------
  private append(f: Flow): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail !== null) this.tail.next = f;
    else this.head = f;
    this.tail = f;
  }

  private unlink(f: Flow): void {
    if (f.prev !== null) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = f.next = null;
  }
}

/** sample standard deviation from a sum of squared deviations, as nfstream finishes it (0 below `min` values) */
function stddev(m2: number, n: number, min: number): number {
  return n > min ? Math.sqrt(m2 / (n - min)) : 0;
}

function flowRecordOf(f: Flow): FlowRecord {
  const c = f.flags;
  const r: FlowRecord = {
    src_ip: formatAddress(f.ipVersion, f.srcIp),
    src_port: f.srcPort,
    dst_ip: formatAddress(f.ipVersion, f.dstIp),
    dst_port: f.dstPort,
    protocol: f.protocol,
    ip_version: f.ipVersion,
    vlan_id: f.vlanId,
    expiration_id: f.expirationId,
    bidirectional_first_seen_ms: f.bi.first,
    bidirectional_last_seen_ms: f.bi.last,
    bidirectional_duration_ms: f.bi.last - f.bi.first,
    bidirectional_packets: f.bi.packets,
    bidirectional_bytes: f.bi.bytes,
    src2dst_first_seen_ms: f.sd.first,
    src2dst_last_seen_ms: f.sd.last,
    src2dst_duration_ms: f.sd.last - f.sd.first,
    src2dst_packets: f.sd.packets,
    src2dst_bytes: f.sd.bytes,
    dst2src_first_seen_ms: f.ds.first,
    dst2src_last_seen_ms: f.ds.last,
    dst2src_duration_ms: f.ds.last - f.ds.first,
    dst2src_packets: f.ds.packets,
    dst2src_bytes: f.ds.bytes,
    bidirectional_min_ps: f.bi.minPs,
    bidirectional_mean_ps: f.bi.meanPs,
    bidirectional_stddev_ps: stddev(f.bi.m2Ps, f.bi.packets, 1),
    bidirectional_max_ps: f.bi.maxPs,
    src2dst_min_ps: f.sd.minPs,
    src2dst_mean_ps: f.sd.meanPs,
    src2dst_stddev_ps: stddev(f.sd.m2Ps, f.sd.packets, 1),
    src2dst_max_ps: f.sd.maxPs,
    dst2src_min_ps: f.ds.minPs,
    dst2src_mean_ps: f.ds.meanPs,
    dst2src_stddev_ps: stddev(f.ds.m2Ps, f.ds.packets, 1),
    dst2src_max_ps: f.ds.maxPs,
    bidirectional_min_piat_ms: f.bi.minPiat,
    bidirectional_mean_piat_ms: f.bi.meanPiat,
    bidirectional_stddev_piat_ms: stddev(f.bi.m2Piat, f.bi.packets, 2),
    bidirectional_max_piat_ms: f.bi.maxPiat,
    src2dst_min_piat_ms: f.sd.minPiat,
    src2dst_mean_piat_ms: f.sd.meanPiat,
    src2dst_stddev_piat_ms: stddev(f.sd.m2Piat, f.sd.packets, 2),
    src2dst_max_piat_ms: f.sd.maxPiat,
    dst2src_min_piat_ms: f.ds.minPiat,
    dst2src_mean_piat_ms: f.ds.meanPiat,
    dst2src_stddev_piat_ms: stddev(f.ds.m2Piat, f.ds.packets, 2),
    dst2src_max_piat_ms: f.ds.maxPiat,
    bidirectional_syn_packets: c[0]!,
    bidirectional_cwr_packets: c[1]!,
    bidirectional_ece_packets: c[2]!,
    bidirectional_urg_packets: c[3]!,
    bidirectional_ack_packets: c[4]!,
    bidirectional_psh_packets: c[5]!,
    bidirectional_rst_packets: c[6]!,
    bidirectional_fin_packets: c[7]!,
    src2dst_syn_packets: c[8]!,
    src2dst_cwr_packets: c[9]!,
    src2dst_ece_packets: c[10]!,
    src2dst_urg_packets: c[11]!,
    src2dst_ack_packets: c[12]!,
    src2dst_psh_packets: c[13]!,
    src2dst_rst_packets: c[14]!,
    src2dst_fin_packets: c[15]!,
    dst2src_syn_packets: c[16]!,
    dst2src_cwr_packets: c[17]!,
    dst2src_ece_packets: c[18]!,
    dst2src_urg_packets: c[19]!,
    dst2src_ack_packets: c[20]!,
    dst2src_psh_packets: c[21]!,
    dst2src_rst_packets: c[22]!,
    dst2src_fin_packets: c[23]!,
    conn_state: connectionState(f.protocol, f.history, f.ds.packets),
    service: serviceByPort(f.protocol, f.dstPort),
    tcp_established: f.protocol === 6 && (f.history & (H_ORIG_SYN | H_RESP_SYNACK | H_ORIG_ACK)) === (H_ORIG_SYN | H_RESP_SYNACK | H_ORIG_ACK) ? 1 : 0,
    // the window fields are set later (capture/windows.ts); created here so every record
    // has one shape from the start (adding 26 properties to a 74-property object later
    // costs V8 a dictionary-mode object: 10x slower windows, measured)
    count: NaN,
    srv_count: NaN,
    serror_rate: NaN,
    srv_serror_rate: NaN,
    rerror_rate: NaN,
    srv_rerror_rate: NaN,
    same_srv_rate: NaN,
    diff_srv_rate: NaN,
    srv_diff_host_rate: NaN,
    dst_host_count: NaN,
    dst_host_srv_count: NaN,
    dst_host_same_srv_rate: NaN,
    dst_host_diff_srv_rate: NaN,
    dst_host_same_src_port_rate: NaN,
    dst_host_srv_diff_host_rate: NaN,
    dst_host_serror_rate: NaN,
    dst_host_srv_serror_rate: NaN,
    dst_host_rerror_rate: NaN,
    dst_host_srv_rerror_rate: NaN,
    src_dst_port_count: NaN,
    src_count: NaN,
    src_serror_rate: NaN,
    src_rerror_rate: NaN,
    src_host_count: NaN,
    src_host_serror_rate: NaN,
    src_host_rerror_rate: NaN,
  };
  return r;
}
