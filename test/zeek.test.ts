import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FLOW_FIELDS, type FlowRecord } from '../src/capture/flow-record';
import { serviceByPort } from '../src/capture/services';
import { readZeekConnLog, ZeekConnParser, ZeekFormatError, ZeekSkip, type ZeekConnLog } from '../src/capture/zeek';
import { fixturePath, readFixtureJson, readFixtureText } from './fixtures';

// Real logs from the zat 0.4.9 sdist (test/fixtures/zeek/README.md); expected.json holds every
// record's flow fields as scripts/fixtures/zeek_logs.sh computed them in Python from the raw files.
const TSV_PATH = fixturePath('zeek', 'conn.log');
const JSON_PATH = fixturePath('zeek', 'conn.json.log');
const TSV_TEXT = readFixtureText('zeek', 'conn.log');
const JSON_TEXT = readFixtureText('zeek', 'conn.json.log');

interface Expected {
  columns: string[];
  tsv_header_lines: number;
  shared_uids: string[];
  tsv: (string | number | null)[][];
  json: (string | number | null)[][];
}
const EXPECTED = readFixtureJson<Expected>('zeek', 'expected.json');

/** the fields Zeek gives a value (everything else must be NaN) */
const MAPPED = new Set([...EXPECTED.columns.filter((c) => c !== 'zeek_service' && c !== 'uid'), 'vlan_id', 'service']);

/** the flow record the Python mapping predicts: mapped fields from expected.json, NaN elsewhere */
function expectedRecord(row: (string | number | null)[]): FlowRecord {
  const r: FlowRecord = Object.fromEntries(FLOW_FIELDS.map((f) => [f, NaN]));
  EXPECTED.columns.forEach((c, i) => {
    if (c !== 'zeek_service' && c !== 'uid') r[c] = row[i] as string | number;
  });
  r.vlan_id = 0;
  const zeekService = row[EXPECTED.columns.indexOf('zeek_service')];
  r.service = zeekService ?? serviceByPort(r.protocol as number, r.dst_port as number);
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'zeek-'));
function writeTmp(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** the TSV log's lines, and its header and records split into cells */
const TSV_LINES = TSV_TEXT.split('\n').slice(0, -1);
const HEADER = TSV_LINES.filter((l) => l.startsWith('#'));
const DATA = TSV_LINES.filter((l) => !l.startsWith('#')).map((l) => l.split('\t'));
const FIELDS = HEADER.find((l) => l.startsWith('#fields\t'))!.split('\t').slice(1);
const col = (name: string) => FIELDS.indexOf(name);

/** parse lines with one parser: records and skips, header lines dropped */
function parseLines(lines: string[]): (FlowRecord | ZeekSkip)[] {
  const p = new ZeekConnParser();
  return lines.map((l) => p.line(l)).filter((x): x is FlowRecord | ZeekSkip => x !== null);
}
/** a real record line with some cells replaced */
function dataLine(index: number, over: Record<string, string>): string {
  const cells = [...DATA[index]];
  for (const [k, v] of Object.entries(over)) cells[col(k)] = v;
  return cells.join('\t');
}
/** the real header then the given record lines, through one parser */
function parseWithHeader(...lines: string[]): (FlowRecord | ZeekSkip)[] {
  return parseLines([...HEADER.slice(0, -1), ...lines]);
}
const TSV_RECORDS = readZeekConnLog(TSV_PATH).records;

describe('Zeek TSV conn.log (zat 0.4.9 data/conn.log)', () => {
  it('reads all 360 records, skips none, and accounts for every line', () => {
    const log: ZeekConnLog = readZeekConnLog(TSV_PATH);
    expect(log.format).toBe('tsv');
    expect(log.records).toHaveLength(360);
    expect(Object.values(log.skipped).every((n) => n === 0)).toBe(true);
    expect(log.firstSkips).toEqual([]);
    expect(log.headerLines).toBe(EXPECTED.tsv_header_lines); // 8 before the records, #close after
    expect(log.lines).toBe(369);
    expect(log.records.length + log.headerLines).toBe(log.lines);
  });

  it('gives every record the fields computed in Python from the raw file, NaN for what Zeek cannot know', () => {
    const { records } = readZeekConnLog(TSV_PATH);
    expect(records).toHaveLength(EXPECTED.tsv.length);
    records.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(FLOW_FIELDS);
      expect(r).toEqual(expectedRecord(EXPECTED.tsv[i]));
      for (const f of FLOW_FIELDS) if (!MAPPED.has(f)) expect(r[f], f).toBeNaN();
    });
  });

  it('maps the first record as read by hand from the raw line', () => {
    // 1379288667.706265 CoyZrY2g74UvMMgp4a 192.168.33.10 1032 54.245.228.191 80 tcp http 0.447460 601 38393 RSTO - 0 ShADadR 22 1489 31 39641 (empty)
    const r = TSV_RECORDS[0];
    expect(r).toMatchObject({
      src_ip: '192.168.33.10', src_port: 1032, dst_ip: '54.245.228.191', dst_port: 80, protocol: 6, ip_version: 4, vlan_id: 0,
      bidirectional_first_seen_ms: 1379288667706, bidirectional_duration_ms: 447, bidirectional_last_seen_ms: 1379288668153,
      src2dst_packets: 22, dst2src_packets: 31, bidirectional_packets: 53,
      src2dst_bytes: 1489, dst2src_bytes: 39641, bidirectional_bytes: 41130, // orig_ip_bytes/resp_ip_bytes, not the payload 601/38393
      conn_state: 'RSTO', service: 'http',
    });
    expect(r.bidirectional_syn_packets).toBeNaN();
    expect(r.bidirectional_mean_ps).toBeNaN();
    expect(r.count).toBeNaN();
  });

  it('maps the last record (ICMP, unset service/duration/bytes/history) as read by hand', () => {
    // 1379288848.201008 Cem2724yzrBgXgCpR6 109.67.16.18 3 192.168.33.10 3 icmp - - - - OTH - 0 - 1 72 0 0 (empty)
    expect(TSV_RECORDS[359]).toMatchObject({
      src_ip: '109.67.16.18', src_port: 0, dst_ip: '192.168.33.10', dst_port: 0, protocol: 1, ip_version: 4,
      bidirectional_first_seen_ms: 1379288848201, bidirectional_duration_ms: 0, bidirectional_last_seen_ms: 1379288848201,
      src2dst_packets: 1, dst2src_packets: 0, src2dst_bytes: 72, dst2src_bytes: 0, conn_state: 'OTH', service: 'other',
    });
  });

  it('reads "-" as unset: the 149 unset durations are 0, the 246 unset services are guessed from the port', () => {
    const unsetDuration = DATA.filter((c) => c[col('duration')] === '-').length;
    const unsetService = DATA.filter((c) => c[col('service')] === '-');
    expect(unsetDuration).toBe(149);
    expect(unsetService).toHaveLength(246);
    expect(TSV_RECORDS.filter((_, i) => DATA[i][col('duration')] === '-').every((r) => r.bidirectional_duration_ms === 0)).toBe(true);
    const guessed = TSV_RECORDS.filter((_, i) => DATA[i][col('service')] === '-').map((r) => `${r.protocol}/${r.dst_port}=${r.service}`);
    expect(new Set(guessed)).toEqual(new Set(['17/16464=other', '1/0=other', '17/53=dns', '6/16464=other', '6/80=http', '6/12757=other', '17/1900=ssdp', '17/123=ntp']));
  });

  it('reads "(empty)" as empty (a service guessed from the port), and a required field unset or empty is skipped naming it', () => {
    const [r] = parseWithHeader(dataLine(0, { service: '(empty)' })) as FlowRecord[];
    expect(r.service).toBe('http');
    const [s1, s2] = parseWithHeader(dataLine(0, { conn_state: '-' }), dataLine(0, { 'id.orig_h': '(empty)' }));
    expect(s1).toBeInstanceOf(ZeekSkip);
    expect(s1).toMatchObject({ kind: 'unset-field', field: 'conn_state', reason: 'conn_state is unset ("-")' });
    expect(s2).toMatchObject({ kind: 'unset-field', field: 'id.orig_h', reason: 'id.orig_h is empty' });
  });

  it('honours the declared separator, unset and empty markers', () => {
    const text = TSV_LINES.map((l) => {
      if (l.startsWith('#separator ')) return '#separator \\x7c';
      const cells = l.split('\t');
      if (cells[0] === '#unset_field') return '#unset_field|NA';
      if (cells[0] === '#empty_field') return '#empty_field|EMPTY';
      return cells.map((c) => (c === '-' ? 'NA' : c === '(empty)' ? 'EMPTY' : c)).join('|');
    });
    const out = parseLines(text);
    expect(out).toEqual(TSV_RECORDS);
    // with "NA" as the unset marker, "-" is a value: a service named "-" is kept
    const [r] = parseLines([...text.slice(0, 8), text[8].split('|').map((c, i) => (i === col('service') ? '-' : c)).join('|')]) as FlowRecord[];
    expect(r.service).toBe('-');
  });

  it('decodes \\x escapes (after comparing with the markers: "\\x2d" is a real "-")', () => {
    const [a, b, c] = parseWithHeader(
      dataLine(0, { service: 'ht\\x74p' }),
      dataLine(0, { service: '\\x2d' }),
      dataLine(0, { service: 'caf\\xc3\\xa9\\x09x' }),
    ) as FlowRecord[];
    expect(a.service).toBe('http');
    expect(b.service).toBe('-');
    expect(c.service).toBe('café\tx');
  });

  it('finds fields by their #fields names: reordered columns with extra ones read the same', () => {
    // reverse the real columns and add two Zeek columns the parser does not use (local_resp, community_id)
    const n = FIELDS.length;
    const order = [...Array(n).keys()].reverse();
    const reorder = (cells: string[], extra: string[]) => [...order.map((i) => cells[i]), ...extra];
    const lines = TSV_LINES.map((l) => {
      const cells = l.split('\t');
      if (cells[0] === '#fields') return ['#fields', ...reorder(cells.slice(1), ['local_resp', 'community_id'])].join('\t');
      if (cells[0] === '#types') return ['#types', ...reorder(cells.slice(1), ['bool', 'string'])].join('\t');
      if (l.startsWith('#')) return l;
      return reorder(cells, ['-', '1:abc=']).join('\t');
    });
    expect(parseLines(lines)).toEqual(TSV_RECORDS);
  });

  it('takes vlan_id from a vlan column and the protocol from ip_proto when the log has them', () => {
    const header = HEADER.slice(0, -1).map((l) =>
      l.startsWith('#fields\t') ? `${l}\tvlan\tip_proto` : l.startsWith('#types\t') ? `${l}\tint\tcount` : l,
    );
    const out = parseLines([...header, `${DATA[0].join('\t')}\t42\t6`, `${DATA[0].join('\t')}\t-\t-`, `${DATA[0].join('\t')}\t5000\t6`]);
    expect(out[0]).toMatchObject({ vlan_id: 42, protocol: 6 });
    expect(out[1]).toMatchObject({ vlan_id: 0, protocol: 6 });
    expect(out[2]).toMatchObject({ kind: 'bad-value', field: 'vlan', reason: 'vlan: "5000" is not a VLAN id (0-4095)' });
  });

  it('ICMP over IPv6 is protocol 58; mixed address families and unknown transports are skipped', () => {
    const icmp = DATA.findIndex((c) => c[col('proto')] === 'icmp');
    const out = parseWithHeader(
      dataLine(icmp, { 'id.orig_h': '2001:db8::1', 'id.resp_h': 'fe80::2' }),
      dataLine(icmp, { 'id.orig_h': '2001:db8::1' }),
      dataLine(icmp, { proto: 'unknown_transport' }),
    );
    expect(out[0]).toMatchObject({ protocol: 58, ip_version: 6, src_port: 0, dst_port: 0 });
    expect(out[1]).toMatchObject({ kind: 'bad-value', field: 'id.resp_h' });
    expect(out[2]).toMatchObject({ kind: 'unknown-proto', field: 'proto', reason: 'proto: "unknown_transport" is not tcp, udp or icmp' });
  });

  it('skips damaged lines with a reason naming the field, and a file accounts for every line', () => {
    const damaged = [
      DATA[5].slice(0, -1).join('\t'), // 19 columns
      dataLine(6, { 'id.resp_p': 'http' }),
      dataLine(7, { 'id.orig_p': '70000' }),
      dataLine(8, { 'id.orig_h': '192.168.33' }),
      dataLine(9, { orig_pkts: '2.5' }),
      dataLine(10, { ts: 'yesterday' }),
      dataLine(11, { conn_state: 'XX' }),
      dataLine(12, { duration: '-0.1' }),
    ];
    const lines = [...TSV_LINES.slice(0, 8), damaged[0], ...TSV_LINES.slice(8, 100), ...damaged.slice(1), ...TSV_LINES.slice(100)];
    const log = readZeekConnLog(writeTmp('damaged.log', `${lines.join('\n')}\n`));
    expect(log.records).toEqual(TSV_RECORDS);
    expect(log.skipped).toEqual({ 'no-fields-header': 0, 'column-count': 1, 'not-json-object': 0, 'unset-field': 0, 'bad-value': 7, 'unknown-proto': 0 });
    expect(log.records.length + 8 + log.headerLines).toBe(log.lines);
    expect(log.firstSkips).toEqual([
      { line: 9, reason: 'the line has 19 columns, #fields names 20' },
      { line: 102, reason: 'id.resp_p: "http" is not a port (an integer 0-65535)' },
      { line: 103, reason: 'id.orig_p: "70000" is not a port (an integer 0-65535)' },
      { line: 104, reason: 'id.orig_h: "192.168.33" is not an IP address' },
      { line: 105, reason: 'orig_pkts: "2.5" is not a count (a non-negative integer)' },
      { line: 106, reason: 'ts: "yesterday" is not a time (epoch seconds or ISO 8601)' },
      { line: 107, reason: 'conn_state: "XX" is not a Zeek connection state' },
      { line: 108, reason: 'duration: "-0.1" is not an interval (seconds >= 0)' },
    ]);
    for (const s of log.firstSkips) expect(s.reason).not.toContain('\n');
  });

  it('a record before #fields is skipped; a second header (logs joined with cat) starts afresh', () => {
    const out = parseLines([TSV_LINES[0], TSV_LINES[8]]);
    expect(out[0]).toMatchObject({ kind: 'no-fields-header', field: '#fields' });
    const log = readZeekConnLog(writeTmp('twice.log', TSV_TEXT + TSV_TEXT));
    expect(log.records).toEqual([...TSV_RECORDS, ...TSV_RECORDS]);
    expect(log.lines).toBe(738);
  });

  it('reads a gzip-compressed log', () => {
    expect(readZeekConnLog(writeTmp('conn.log.gz', gzipSync(TSV_TEXT))).records).toEqual(TSV_RECORDS);
  });
});

describe('Zeek JSON conn.log (zat 0.4.9 data/json/conn.log)', () => {
  const JSON_LINES = JSON_TEXT.split('\n').filter((l) => l !== '');
  const JSON_RECORDS = readZeekConnLog(JSON_PATH).records;

  it('reads all 50 records, skips none; they are not the TSV log connections (no uid in common)', () => {
    const log = readZeekConnLog(JSON_PATH);
    expect(log.format).toBe('json');
    expect(log.records).toHaveLength(50);
    expect(Object.values(log.skipped).every((n) => n === 0)).toBe(true);
    expect(log.headerLines).toBe(0);
    expect(log.lines).toBe(50);
    expect(EXPECTED.shared_uids).toEqual([]);
  });

  it('gives every record the fields computed in Python from the raw file', () => {
    expect(JSON_RECORDS).toHaveLength(EXPECTED.json.length);
    JSON_RECORDS.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(FLOW_FIELDS);
      expect(r).toEqual(expectedRecord(EXPECTED.json[i]));
    });
  });

  it('maps the first record as read by hand, and keeps Zeek service lists verbatim', () => {
    // {"ts":1575413096.052279,...,"id.orig_h":"10.18.20.97","id.orig_p":49187,"id.resp_h":"10.18.20.8","id.resp_p":88,"proto":"tcp",
    //  "service":"krb_tcp","duration":0.0012309551239013672,...,"conn_state":"RSTR",...,"orig_pkts":4,"orig_ip_bytes":414,"resp_pkts":4,"resp_ip_bytes":455}
    expect(JSON_RECORDS[0]).toMatchObject({
      src_ip: '10.18.20.97', src_port: 49187, dst_ip: '10.18.20.8', dst_port: 88, protocol: 6, ip_version: 4,
      bidirectional_first_seen_ms: 1575413096052, bidirectional_duration_ms: 1, bidirectional_last_seen_ms: 1575413096053,
      src2dst_packets: 4, dst2src_packets: 4, src2dst_bytes: 414, dst2src_bytes: 455, conn_state: 'RSTR', service: 'krb_tcp',
    });
    expect(JSON_RECORDS.map((r) => r.service)).toContain('smb,gssapi,krb');
    // the 6 records without a "service" key get the port guess
    const noService = JSON_LINES.map((l, i) => ('service' in JSON.parse(l) ? -1 : i)).filter((i) => i >= 0);
    expect(noService).toHaveLength(6);
    expect(new Set(noService.map((i) => `${JSON_RECORDS[i].dst_port}=${JSON_RECORDS[i].service}`))).toEqual(new Set(['389=ldap', '49158=other', '135=msrpc']));
  });

  it('reads ts as an ISO 8601 string or integer milliseconds, and id as a nested object', () => {
    const iso = JSON_LINES.map((l) =>
      l.replace(/"ts":(\d+)\.(\d+)/, (_, sec: string, frac: string) => `"ts":"${new Date(Number(sec) * 1000).toISOString().replace('.000Z', `.${frac}Z`)}"`),
    );
    expect(iso[0]).toContain('"ts":"2019-12-03T22:44:56.052279Z"');
    expect(parseLines(iso)).toEqual(JSON_RECORDS);
    const offset = iso[0].replace('22:44:56.052279Z', '23:44:56.052279+01:00');
    expect(parseLines([offset])).toEqual([JSON_RECORDS[0]]);
    const millis = JSON_LINES.map((l, i) => l.replace(/"ts":[\d.]+/, `"ts":${JSON_RECORDS[i].bidirectional_first_seen_ms}`));
    expect(parseLines(millis)).toEqual(JSON_RECORDS);
    const nested = JSON_LINES.map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      const id = { orig_h: o['id.orig_h'], orig_p: o['id.orig_p'], resp_h: o['id.resp_h'], resp_p: o['id.resp_p'] };
      for (const k of Object.keys(id)) delete o[`id.${k}`];
      return JSON.stringify({ ...o, id });
    });
    expect(parseLines(nested)).toEqual(JSON_RECORDS);
  });

  it('skips damaged JSON lines with a reason naming the field', () => {
    const o = JSON.parse(JSON_LINES[0]) as Record<string, unknown>;
    const out = parseLines([
      JSON.stringify({ ...o, 'id.resp_p': 'kerberos' }),
      JSON.stringify({ ...o, 'id.orig_p': undefined }),
      JSON.stringify({ ...o, ts: null }),
      JSON.stringify({ ...o, resp_pkts: -1 }),
      '[1, 2]',
      '{"ts": 1575413096.05',
      JSON_LINES[1],
    ]);
    expect(out.slice(0, 6).map((s) => (s as ZeekSkip).reason)).toEqual([
      'id.resp_p: "kerberos" is not a port (an integer 0-65535)',
      'id.orig_p is missing (or null)',
      'ts is missing (or null)',
      'resp_pkts: -1 is not a count (a non-negative integer)',
      'not a JSON object: "[1, 2]"',
      expect.stringMatching(/^not JSON \(.*\): "\{\\"ts\\": 1575413096\.05"$/),
    ]);
    expect(out.slice(0, 6).map((s) => (s as ZeekSkip).kind)).toEqual(['bad-value', 'unset-field', 'unset-field', 'bad-value', 'not-json-object', 'not-json-object']);
    expect(out[6]).toEqual(JSON_RECORDS[1]);
  });
});

describe('input that is not a Zeek conn.log', () => {
  it('a CSV file is rejected with one line naming it', () => {
    const csv = fixturePath('seed', 'seed_data.csv');
    let message = '';
    try {
      readZeekConnLog(csv);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^.*seed_data\.csv: line 1: not a Zeek log: the first line ".*" is neither a "#separator" header \(Zeek TSV\) nor a JSON object \(Zeek JSON\)$/);
    expect(message).toContain(csv);
    expect(message).not.toContain('\n');
  });

  it('a Zeek log of another kind (no conn_state column) is rejected naming the column and #path', () => {
    const dns = [
      '#separator \\x09',
      '#path\tdns',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery',
      '1379288667.706265\tC1\t192.168.33.10\t1032\t8.8.8.8\t53\tudp\texample.com',
    ].join('\n');
    expect(() => readZeekConnLog(writeTmp('dns.log', dns))).toThrow(
      /dns\.log: line 3: not a Zeek conn\.log: #fields has no "conn_state" column \(this is Zeek's "dns" log\)$/,
    );
    expect(() => new ZeekConnParser().line('ts,src,dst')).toThrow(ZeekFormatError);
    expect(() => readZeekConnLog(writeTmp('blank.log', '\n\n'))).toThrow(/blank\.log: not a Zeek log: the file has no non-empty line/);
  });
});

describe('serviceByPort', () => {
  it('names common ports by transport, "other" otherwise', () => {
    expect(serviceByPort(6, 80)).toBe('http');
    expect(serviceByPort(6, 8080)).toBe('http');
    expect(serviceByPort(6, 443)).toBe('https');
    expect(serviceByPort(17, 53)).toBe('dns');
    expect(serviceByPort(6, 53)).toBe('dns');
    expect(serviceByPort(6, 22)).toBe('ssh');
    expect(serviceByPort(6, 21)).toBe('ftp');
    expect(serviceByPort(6, 25)).toBe('smtp');
    expect(serviceByPort(6, 6379)).toBe('redis');
    expect(serviceByPort(17, 123)).toBe('ntp');
    expect(serviceByPort(6, 123)).toBe('other');
    expect(serviceByPort(17, 80)).toBe('other');
    expect(serviceByPort(1, 0)).toBe('other');
    expect(serviceByPort(6, 50000)).toBe('other');
  });
});

