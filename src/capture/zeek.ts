/**
 * Zeek's conn.log as a source of flow records (capture/flow-record.ts), read a line at a
 * time, in either of the formats Zeek writes:
 *
 * - TSV (the ASCII writer's default): header lines `#separator \x09`, `#set_separator`,
 *   `#empty_field`, `#unset_field`, `#path`, `#open`, `#fields`, `#types`, then one
 *   record per line, and `#close`. Columns are found by their `#fields` name, so logs
 *   with extra columns (local_resp, ip_proto, vlan, community_id, ...) or another order
 *   read the same. The declared separator, unset marker (`-`) and empty marker
 *   (`(empty)`) are honoured, and `\xHH` escapes are decoded. A second `#separator`
 *   header (logs concatenated with `cat`) starts a new header.
 * - JSON (`LogAscii::use_json=T`): one object per line, keys as in TSV (`id.orig_h`; a
 *   nested `{"id": {"orig_h": ...}}` is read too); an unset field is an absent key (or
 *   null). `ts` may be epoch seconds (Zeek's default), an ISO 8601 string
 *   (`JSON::TS_ISO8601`) or integer milliseconds (`JSON::TS_MILLIS`: a number of at
 *   least 1e11, which as seconds would be the year 5138).
 *
 * The format is that of the first non-empty line: `#separator ` for TSV, `{` for JSON;
 * anything else is not a Zeek log and throws {@link ZeekFormatError}, as does a
 * `#fields` header without the columns a conn.log always has. A record that cannot be
 * read is not thrown: it comes back as a {@link ZeekSkip} whose reason names the field
 * and value, so that a reader accounts for every line.
 *
 * How Zeek's fields become flow fields (nfstream's names and units):
 * - src_ip/src_port/dst_ip/dst_port = id.orig_h/id.orig_p/id.resp_h/id.resp_p, except
 *   that ICMP ports are 0, as in nfstream and our flow meter (Zeek puts the ICMP type
 *   and code in id.orig_p and id.resp_p).
 * - protocol: Zeek's ip_proto column when the log has it, else proto tcp 6, udp 17,
 *   icmp 1 (58 when the addresses are IPv6: Zeek logs ICMPv6 as "icmp"); ip_version from
 *   the address; vlan_id from Zeek's vlan column when present and set, else 0.
 * - bidirectional_first_seen_ms = round(ts * 1000), bidirectional_duration_ms =
 *   round(duration * 1000), bidirectional_last_seen_ms = first + duration. An unset
 *   duration is 0: Zeek's conn script sets duration (and orig_bytes/resp_bytes) only
 *   `if ( c$duration > 0secs )`, so unset means exactly zero (one packet, or packets
 *   with one timestamp).
 * - src2dst_packets/dst2src_packets = orig_pkts/resp_pkts; src2dst_bytes/dst2src_bytes =
 *   orig_ip_bytes/resp_ip_bytes: IP-level bytes (IP headers included), which is
 *   nfstream's accounting_mode 1, not its default link-layer bytes: Zeek does not log
 *   link-level sizes. Zeek's orig_bytes/resp_bytes are transport payload (sequence-number
 *   ranges for TCP) and are not used. The bidirectional fields are the sums; an unset
 *   count (Zeek's use_conn_size_analyzer=F) is NaN.
 * - conn_state is Zeek's; service is Zeek's (verbatim, possibly a comma-joined list such
 *   as "smb,gssapi,krb", and in Zeek's vocabulary: "ssl", "krb_tcp") when set, else
 *   {@link serviceByPort} of the protocol and responder port.
 * - Everything Zeek cannot know is NaN: expiration_id, the per-direction first/last
 *   seen and duration, packet-size and inter-arrival statistics, and the TCP flag counts
 *   (Zeek's history letters record the first occurrence of a flag per direction, not a
 *   count). The window fields are NaN too: capture/windows.ts computes them later.
 */
import { isIP } from 'node:net';
import { readTextFile } from '../data/textfile';
import { FLOW_FIELDS, FLOW_TEXT_FIELDS, type FlowRecord } from './flow-record';
import { serviceByPort } from './services';

/** The two formats Zeek's ASCII writer produces */
export type ZeekLogFormat = 'tsv' | 'json';

/** Why a record line was set aside (the keys of {@link ZeekConnLog.skipped}) */
export type ZeekSkipKind =
  /** a TSV record before any `#fields` header */
  | 'no-fields-header'
  /** a TSV record with more or fewer columns than `#fields` names */
  | 'column-count'
  /** a JSON-format line that is not a JSON object */
  | 'not-json-object'
  /** a field every flow needs (ts, the addresses and ports, proto, conn_state) is unset */
  | 'unset-field'
  /** a field whose value cannot be read: a port that is not a number, an address that is not an IP, ... */
  | 'bad-value'
  /** a transport Zeek logs as "unknown_transport" (and no ip_proto column to tell it) */
  | 'unknown-proto';

/** every {@link ZeekSkipKind}, in the order reports print them */
export const ZEEK_SKIP_KINDS: readonly ZeekSkipKind[] = ['no-fields-header', 'column-count', 'not-json-object', 'unset-field', 'bad-value', 'unknown-proto'];

/** Zeek's connection states (base/protocols/conn/main.zeek), the only values conn_state may take */
export const ZEEK_CONN_STATES: ReadonlySet<string> = new Set(['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']);

/** A record line that could not be read: its kind, and one line naming the field and value. */
export class ZeekSkip {
  /**
   * @param kind - the counter it goes to
   * @param reason - one line, naming the field and its value
   * @param field - the Zeek field at fault, when there is one
   */
  constructor(
    readonly kind: ZeekSkipKind,
    readonly reason: string,
    readonly field?: string,
  ) {}
}

/** Input that is not a Zeek conn.log at all (wrong first line, a `#fields` header without conn.log's columns). */
export class ZeekFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZeekFormatError';
  }
}

/** the columns without which a line is not a flow (a conn.log always has them) */
const REQUIRED_FIELDS = ['ts', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'conn_state'] as const;
/** the other columns read when present */
const OPTIONAL_FIELDS = ['service', 'duration', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'vlan', 'ip_proto', 'history'] as const;
type ZeekField = (typeof REQUIRED_FIELDS)[number] | (typeof OPTIONAL_FIELDS)[number];
const READ_FIELDS: readonly ZeekField[] = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS];
/** each read field's slot in {@link ZeekConnParser}'s column table */
const SLOT = Object.fromEntries(READ_FIELDS.map((f, i) => [f, i])) as Record<ZeekField, number>;

/** a record with every flow field: text fields '', numbers NaN (what Zeek cannot know stays so) */
const TEMPLATE: FlowRecord = Object.fromEntries(FLOW_FIELDS.map((f) => [f, FLOW_TEXT_FIELDS.has(f) ? '' : NaN]));

/** JSON ts values at or above this are milliseconds (JSON::TS_MILLIS), below it seconds */
const MILLIS_FROM = 1e11;

// String methods as module constants, called with .call: see the note in data/records.ts.
const split = String.prototype.split as (this: string, separator: string) => string[];
const startsWith = String.prototype.startsWith;
const indexOf = String.prototype.indexOf;
const charCodeAt = String.prototype.charCodeAt;

const DECIMAL = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;
const UNSIGNED = /^\d+$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/;

/** a value as a message shows it: JSON-quoted, cut at 40 characters */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Decode Zeek's `\xHH` escapes (bytes, so that an escaped multi-byte UTF-8 character comes back whole). */
function unescapeZeek(s: string): string {
  if (indexOf.call(s, '\\x') < 0) return s;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of s.matchAll(/\\x([0-9a-fA-F]{2})/g)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(Buffer.from(s.slice(last, at), 'utf8'));
    parts.push(Buffer.from([parseInt(m[1], 16)]));
    last = at + 4;
  }
  if (last < s.length) parts.push(Buffer.from(s.slice(last), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

/** thrown inside {@link ZeekConnParser.line} and turned into its {@link ZeekSkip} */
class Bad {
  constructor(
    readonly kind: ZeekSkipKind,
    readonly field: string,
    readonly reason: string,
  ) {}
}

/** a field's value: TSV gives strings (undefined when unset), JSON whatever the object holds */
type Getter = (field: ZeekField) => unknown;

/**
 * Reads Zeek conn.log lines, one at a time, into flow records. Keep one parser per
 * log: it remembers the format and, for TSV, the header.
 */
export class ZeekConnParser {
  private fmt: ZeekLogFormat | undefined;
  private separator = '\t';
  private setSep = ',';
  private emptyField = '(empty)';
  private unsetField = '-';
  private logPath: string | undefined;
  /** column of each read field in the current `#fields`, -1 when the log has no such column */
  private columns: Int32Array | undefined;
  private columnCount = 0;
  private cells: string[] = [];
  private object: Record<string, unknown> = {};
  private readonly tsvGet: Getter = (f) => this.tsvValue(f);
  private readonly jsonGet: Getter = (f) => this.jsonValue(f);

  /** the format found on the first non-empty line (undefined before it) */
  get format(): ZeekLogFormat | undefined {
    return this.fmt;
  }

  /** the TSV header's `#path` (e.g. "conn"), when one was read */
  get path(): string | undefined {
    return this.logPath;
  }

  /** the TSV header's `#set_separator` (the flow fields hold no sets: tunnel_parents is the only set in conn.log) */
  get setSeparator(): string {
    return this.setSep;
  }

  /**
   * Read one line (without its newline; a trailing "\r" is ignored).
   *
   * @returns the flow record; null for a header, comment or blank line; a
   *   {@link ZeekSkip} for a record that cannot be read
   * @throws ZeekFormatError when the first non-empty line is neither a `#separator`
   *   header nor a JSON object, or a `#fields` header lacks a conn.log column
   */
  line(text: string): FlowRecord | ZeekSkip | null {
    if (text.length > 0 && charCodeAt.call(text, text.length - 1) === 13) text = text.slice(0, -1);
    if (text.trim() === '') return null;
    if (this.fmt === undefined) {
      if (charCodeAt.call(text, 0) === 0xfeff) text = text.slice(1); // a byte-order mark some editors write
      if (startsWith.call(text, '#separator ')) this.fmt = 'tsv';
      else if (text.trimStart().startsWith('{')) this.fmt = 'json';
      else {
        throw new ZeekFormatError(
          `not a Zeek log: the first line ${show(text)} is neither a "#separator" header (Zeek TSV) nor a JSON object (Zeek JSON)`,
        );
      }
    }
    try {
      if (this.fmt === 'tsv') {
        if (charCodeAt.call(text, 0) === 35 /* # */) {
          this.header(text);
          return null;
        }
        if (this.columns === undefined) throw new Bad('no-fields-header', '#fields', `a record before any #fields header: ${show(text)}`);
        this.cells = split.call(text, this.separator);
        if (this.cells.length !== this.columnCount) {
          throw new Bad('column-count', '#fields', `the line has ${this.cells.length} columns, #fields names ${this.columnCount}`);
        }
        return buildRecord(this.tsvGet, false);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new Bad('not-json-object', 'line', `not JSON (${(e as Error).message}): ${show(text)}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Bad('not-json-object', 'line', `not a JSON object: ${show(text)}`);
      }
      this.object = parsed as Record<string, unknown>;
      return buildRecord(this.jsonGet, true);
    } catch (e) {
      if (e instanceof Bad) return new ZeekSkip(e.kind, e.reason, e.field);
      throw e;
    }
  }

  private header(text: string): void {
    if (startsWith.call(text, '#separator ')) {
      // a new header (the start of a log, or of a second log concatenated to the first)
      this.separator = unescapeZeek(text.slice('#separator '.length));
      if (this.separator === '') throw new ZeekFormatError('#separator declares an empty separator');
      this.columns = undefined;
      this.columnCount = 0;
      return;
    }
    const parts = split.call(text, this.separator);
    const value = parts[1];
    switch (parts[0]) {
      case '#set_separator':
        if (value !== undefined) this.setSep = unescapeZeek(value);
        return;
      case '#empty_field':
        if (value !== undefined) this.emptyField = value;
        return;
      case '#unset_field':
        if (value !== undefined) this.unsetField = value;
        return;
      case '#path':
        this.logPath = value;
        return;
      case '#fields':
        this.fields(parts.slice(1));
        return;
      default:
        // #types, #open, #close, or a comment: nothing a flow needs
        return;
    }
  }

  private fields(names: string[]): void {
    const index = new Map<string, number>();
    names.forEach((n, i) => {
      if (index.has(n)) throw new ZeekFormatError(`#fields names the column ${show(n)} twice`);
      index.set(n, i);
    });
    const missing = REQUIRED_FIELDS.filter((f) => !index.has(f));
    if (missing.length > 0) {
      const what = this.logPath !== undefined && this.logPath !== 'conn' ? ` (this is Zeek's ${show(this.logPath)} log)` : '';
      throw new ZeekFormatError(`not a Zeek conn.log: #fields has no ${missing.map((m) => show(m)).join(', ')} column${what}`);
    }
    this.columns = Int32Array.from(READ_FIELDS, (f) => index.get(f) ?? -1);
    this.columnCount = names.length;
  }

  private tsvValue(field: ZeekField): string | undefined {
    const col = (this.columns as Int32Array)[SLOT[field]];
    if (col < 0) return undefined;
    const raw = this.cells[col];
    // compare with the markers before unescaping: Zeek escapes a real "-" as "\x2d"
    if (raw === this.unsetField) return undefined;
    if (raw === this.emptyField) return '';
    return unescapeZeek(raw);
  }

  private jsonValue(field: ZeekField): unknown {
    let v = this.object[field];
    if (v === undefined) {
      const dot = field.indexOf('.');
      if (dot > 0) {
        const outer = this.object[field.slice(0, dot)];
        if (outer !== null && typeof outer === 'object') v = (outer as Record<string, unknown>)[field.slice(dot + 1)];
      }
    }
    return v === null ? undefined : v;
  }
}

/** a number from a JSON number or a decimal string (Zeek TSV writes counts, times and intervals as plain decimals) */
function toNumber(v: unknown, integer: boolean): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 && (!integer || Number.isInteger(v)) ? v : undefined;
  if (typeof v === 'string' && (integer ? UNSIGNED : DECIMAL).test(v)) return Number(v);
  return undefined;
}

/** how an unset field is described: TSV writes the unset marker, JSON leaves the key out */
function unsetWords(json: boolean): string {
  return json ? 'is missing (or null)' : 'is unset ("-")';
}

function required(get: Getter, field: ZeekField, json: boolean): unknown {
  const v = get(field);
  if (v === undefined) throw new Bad('unset-field', field, `${field} ${unsetWords(json)}`);
  if (v === '') throw new Bad('unset-field', field, `${field} is empty`);
  return v;
}

function address(get: Getter, field: ZeekField, json: boolean): { ip: string; version: number } {
  const v = required(get, field, json);
  const version = typeof v === 'string' ? isIP(v) : 0;
  if (version === 0) throw new Bad('bad-value', field, `${field}: ${show(v)} is not an IP address`);
  return { ip: v as string, version };
}

function port(get: Getter, field: ZeekField, json: boolean): number {
  const v = required(get, field, json);
  const n = toNumber(v, true);
  if (n === undefined || n > 65535) throw new Bad('bad-value', field, `${field}: ${show(v)} is not a port (an integer 0-65535)`);
  return n;
}

/** an optional count (packets, bytes): NaN when unset */
function count(get: Getter, field: ZeekField): number {
  const v = get(field);
  if (v === undefined) return NaN;
  const n = toNumber(v, true);
  if (n === undefined) throw new Bad('bad-value', field, `${field}: ${show(v)} is not a count (a non-negative integer)`);
  return n;
}

/** ts as epoch milliseconds */
function firstSeenMs(get: Getter, json: boolean): number {
  const v = required(get, 'ts', json);
  if (typeof v === 'string') {
    const iso = ISO_TIME.exec(v);
    if (iso !== null) {
      const [, y, mo, d, h, mi, s, frac, zone] = iso;
      const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
      const back = new Date(ms);
      if (back.getUTCMonth() === +mo - 1 && back.getUTCDate() === +d && +h < 24 && +mi < 60 && +s < 61) {
        let offsetMin = 0;
        if (zone !== 'Z') {
          const z = zone.replace(':', '');
          offsetMin = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
        }
        return ms - offsetMin * 60000 + (frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000));
      }
    }
  }
  const n = toNumber(v, false);
  if (n === undefined) throw new Bad('bad-value', 'ts', `ts: ${show(v)} is not a time (epoch seconds${json ? ', milliseconds' : ''} or ISO 8601)`);
  return json && typeof v === 'number' && n >= MILLIS_FROM ? Math.round(n) : Math.round(n * 1000);
}

function protocolNumber(get: Getter, json: boolean, ipVersion: number): number {
  const ipProto = get('ip_proto');
  if (ipProto !== undefined) {
    const n = toNumber(ipProto, true);
    if (n === undefined || n > 255) throw new Bad('bad-value', 'ip_proto', `ip_proto: ${show(ipProto)} is not an IP protocol number (0-255)`);
    return n;
  }
  const p = required(get, 'proto', json);
  switch (p) {
    case 'tcp':
      return 6;
    case 'udp':
      return 17;
    case 'icmp':
      return ipVersion === 6 ? 58 : 1;
    default:
      throw new Bad('unknown-proto', 'proto', `proto: ${show(p)} is not tcp, udp or icmp`);
  }
}

/** states Zeek gives only to connections whose handshake completed */
const ESTABLISHED_STATES = new Set(['S1', 'SF', 'S2', 'S3', 'RSTO', 'RSTR']);

/**
 * Did the TCP handshake complete? From Zeek's history when the log has it (the
 * originator's SYN "S", the responder's SYN-ACK "h", then an ACK or data from the
 * originator, "A" or "D"), else from the state.
 */
function established(history: unknown, state: string): number {
  if (typeof history === 'string' && history !== '') {
    const s = history.indexOf('S');
    const h = history.indexOf('h');
    if (s < 0 || h < 0) return 0;
    const after = history.slice(h + 1);
    return after.includes('A') || after.includes('D') ? 1 : 0;
  }
  return ESTABLISHED_STATES.has(state) ? 1 : 0;
}

function buildRecord(get: Getter, json: boolean): FlowRecord {
  const ts = firstSeenMs(get, json);
  const src = address(get, 'id.orig_h', json);
  const dst = address(get, 'id.resp_h', json);
  if (src.version !== dst.version) {
    throw new Bad('bad-value', 'id.resp_h', `id.resp_h: ${show(dst.ip)} is IPv${dst.version} but id.orig_h ${show(src.ip)} is IPv${src.version}`);
  }
  let srcPort = port(get, 'id.orig_p', json);
  let dstPort = port(get, 'id.resp_p', json);
  const protocol = protocolNumber(get, json, src.version);
  if (protocol !== 6 && protocol !== 17) {
    // ICMP type/code (and Zeek's 0 for other transports) are not ports: 0, as nfstream has it
    srcPort = 0;
    dstPort = 0;
  }
  const state = required(get, 'conn_state', json);
  if (typeof state !== 'string' || !ZEEK_CONN_STATES.has(state)) {
    throw new Bad('bad-value', 'conn_state', `conn_state: ${show(state)} is not a Zeek connection state`);
  }
  const durationValue = get('duration');
  let durationMs = 0; // unset: Zeek logs duration only when it is > 0
  if (durationValue !== undefined) {
    const d = toNumber(durationValue, false);
    if (d === undefined) throw new Bad('bad-value', 'duration', `duration: ${show(durationValue)} is not an interval (seconds >= 0)`);
    durationMs = Math.round(d * 1000);
  }
  let vlan = 0;
  const vlanValue = get('vlan');
  if (vlanValue !== undefined) {
    const v = toNumber(vlanValue, true);
    if (v === undefined || v > 4095) throw new Bad('bad-value', 'vlan', `vlan: ${show(vlanValue)} is not a VLAN id (0-4095)`);
    vlan = v;
  }
  const origPkts = count(get, 'orig_pkts');
  const respPkts = count(get, 'resp_pkts');
  const origBytes = count(get, 'orig_ip_bytes');
  const respBytes = count(get, 'resp_ip_bytes');
  const zeekService = get('service');
  if (zeekService !== undefined && typeof zeekService !== 'string') {
    throw new Bad('bad-value', 'service', `service: ${show(zeekService)} is not a string`);
  }

  const r: FlowRecord = { ...TEMPLATE };
  r.src_ip = src.ip;
  r.src_port = srcPort;
  r.dst_ip = dst.ip;
  r.dst_port = dstPort;
  r.protocol = protocol;
  r.ip_version = src.version;
  r.vlan_id = vlan;
  r.bidirectional_first_seen_ms = ts;
  r.bidirectional_last_seen_ms = ts + durationMs;
  r.bidirectional_duration_ms = durationMs;
  r.bidirectional_packets = origPkts + respPkts;
  r.bidirectional_bytes = origBytes + respBytes;
  r.src2dst_packets = origPkts;
  r.src2dst_bytes = origBytes;
  r.dst2src_packets = respPkts;
  r.dst2src_bytes = respBytes;
  r.conn_state = state;
  r.tcp_established = protocol === 6 ? established(get('history'), state) : 0;
  r.service = zeekService !== undefined && zeekService !== '' ? zeekService : serviceByPort(protocol, dstPort);
  return r;
}

/** A whole conn.log read by {@link readZeekConnLog}: every line is a record, a skip or a header line. */
export interface ZeekConnLog {
  /** the file read */
  path: string;
  /** its format */
  format: ZeekLogFormat;
  /** the flow records, in the log's order (Zeek writes connections as they end, not sorted by ts) */
  records: FlowRecord[];
  /** record lines set aside, by kind (every kind present, 0 when none) */
  skipped: Record<ZeekSkipKind, number>;
  /** the first skipped lines (at most {@link MAX_LISTED_SKIPS}): 1-based line number and reason */
  firstSkips: { line: number; reason: string }[];
  /** lines read (a final newline does not start another) */
  lines: number;
  /** header, comment and blank lines: lines = records + skipped + headerLines */
  headerLines: number;
}

/** how many skipped lines {@link ZeekConnLog.firstSkips} lists */
export const MAX_LISTED_SKIPS = 20;

/**
 * Read a Zeek conn.log file (TSV or JSON, plain or gzip: gzip is recognised by its magic
 * bytes) into flow records.
 *
 * @param path - the log file
 * @returns its records, and the lines set aside counted by kind
 * @throws FileReadError when the file cannot be read; Error, one line naming the file
 *   (and line), when it is not a Zeek conn.log
 */
export function readZeekConnLog(path: string): ZeekConnLog {
  const text = readTextFile(path);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const parser = new ZeekConnParser();
  const records: FlowRecord[] = [];
  const skipped = Object.fromEntries(ZEEK_SKIP_KINDS.map((k) => [k, 0])) as Record<ZeekSkipKind, number>;
  const firstSkips: { line: number; reason: string }[] = [];
  let headerLines = 0;
  for (let i = 0; i < lines.length; i++) {
    let out: FlowRecord | ZeekSkip | null;
    try {
      out = parser.line(lines[i]);
    } catch (e) {
      if (e instanceof ZeekFormatError) throw new Error(`${path}: line ${i + 1}: ${e.message}`);
      throw e;
    }
    if (out === null) headerLines++;
    else if (out instanceof ZeekSkip) {
      skipped[out.kind]++;
      if (firstSkips.length < MAX_LISTED_SKIPS) firstSkips.push({ line: i + 1, reason: out.reason });
    } else records.push(out);
  }
  if (parser.format === undefined) throw new Error(`${path}: not a Zeek log: the file has no non-empty line`);
  return { path, format: parser.format, records, skipped, firstSkips, lines: lines.length, headerLines };
}
