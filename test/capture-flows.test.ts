/**
 * Flows beyond nfstream's fields: the connection state on real traffic, the window
 * features against a direct reading of their definitions, flow lines read back, and
 * npm run flows / npm run stream --format pcap as commands (from a pipe, like tcpdump's).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readFlowFile, readFlows } from '../src/capture/flow-input';
import { FLOW_CSV_HEADER, flowCsvLine } from '../src/capture/flow-lines';
import { FLOW_FIELDS, WINDOW_FIELDS, type FlowRecord } from '../src/capture/flow-record';
import { WindowFeatures } from '../src/capture/windows';
import { captureBundle, prepareCaptures } from '../src/workflow/capture-evaluation';
import { saveBundle } from '../src/persist/bundle';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';
import { DEFAULT_PARAMS } from '../src/params/params';
import { useThrowawayRedis } from './throwaway-redis';

const ROOT = join(__dirname, '..');
const WEB = join(__dirname, 'fixtures', 'flows', 'web.pcap');
const PAUSES = join(__dirname, 'fixtures', 'flows', 'pauses.pcap');
const node = process.execPath;
const cli = (name: string) => join(ROOT, 'dist', 'cli', `${name}.js`);

/** the window features of flow k straight from their definitions (capture/windows.ts), over flows[0..k] */
function reference(flows: FlowRecord[], k: number): Record<string, number> {
  const me = flows[k]!;
  const svc = (f: FlowRecord) => `${f.protocol}/${f.dst_port}`;
  const serr = (f: FlowRecord) => (f.protocol === 6 && f.tcp_established === 0 && !['REJ', 'OTH', 'RSTRH', 'SHR'].includes(String(f.conn_state)) ? 1 : 0);
  const rerr = (f: FlowRecord) => (f.conn_state === 'REJ' ? 1 : 0);
  let clock = -Infinity;
  for (let i = 0; i <= k; i++) clock = Math.max(clock, Number(flows[i]!.bidirectional_first_seen_ms));
  // in emission order, a flow leaves the time window once it is older than 2 s at some point: for this
  // check the captures' flows are close to time order, so "first seen within 2 s of the clock" is the window
  const time = flows.slice(0, k + 1).filter((f) => Number(f.bidirectional_first_seen_ms) >= clock - 2000);
  const host = time.filter((f) => f.dst_ip === me.dst_ip);
  const srv = time.filter((f) => svc(f) === svc(me));
  const last = flows.slice(Math.max(0, k - 99), k + 1);
  const lh = last.filter((f) => f.dst_ip === me.dst_ip);
  const ls = last.filter((f) => svc(f) === svc(me));
  const sum = (a: FlowRecord[], g: (f: FlowRecord) => number) => a.reduce((x, f) => x + g(f), 0);
  return {
    count: host.length,
    srv_count: srv.length,
    serror_rate: sum(host, serr) / host.length,
    srv_serror_rate: sum(srv, serr) / srv.length,
    rerror_rate: sum(host, rerr) / host.length,
    srv_rerror_rate: sum(srv, rerr) / srv.length,
    same_srv_rate: host.filter((f) => svc(f) === svc(me)).length / host.length,
    diff_srv_rate: host.filter((f) => svc(f) !== svc(me)).length / host.length,
    srv_diff_host_rate: srv.filter((f) => f.dst_ip !== me.dst_ip).length / srv.length,
    dst_host_count: lh.length,
    dst_host_srv_count: ls.length,
    dst_host_same_srv_rate: lh.filter((f) => svc(f) === svc(me)).length / lh.length,
    dst_host_diff_srv_rate: lh.filter((f) => svc(f) !== svc(me)).length / lh.length,
    dst_host_same_src_port_rate: lh.filter((f) => f.src_port === me.src_port).length / lh.length,
    dst_host_srv_diff_host_rate: ls.filter((f) => f.dst_ip !== me.dst_ip).length / ls.length,
    dst_host_serror_rate: sum(lh, serr) / lh.length,
    dst_host_srv_serror_rate: sum(ls, serr) / ls.length,
    dst_host_rerror_rate: sum(lh, rerr) / lh.length,
    dst_host_srv_rerror_rate: sum(ls, rerr) / ls.length,
    src_dst_port_count: new Set(time.filter((f) => f.src_ip === me.src_ip).map((f) => f.dst_port)).size,
    src_count: time.filter((f) => f.src_ip === me.src_ip).length,
    src_serror_rate: sum(time.filter((f) => f.src_ip === me.src_ip), serr) / time.filter((f) => f.src_ip === me.src_ip).length,
    src_rerror_rate: sum(time.filter((f) => f.src_ip === me.src_ip), rerr) / time.filter((f) => f.src_ip === me.src_ip).length,
    src_host_count: last.filter((f) => f.src_ip === me.src_ip).length,
    src_host_serror_rate: sum(last.filter((f) => f.src_ip === me.src_ip), serr) / last.filter((f) => f.src_ip === me.src_ip).length,
    src_host_rerror_rate: sum(last.filter((f) => f.src_ip === me.src_ip), rerr) / last.filter((f) => f.src_ip === me.src_ip).length,
  };
}

describe('flows of real traffic', () => {
  it('connection states: completed HTTP is SF, a refused port REJ, UDP and ICMP answered SF', async () => {
    const { flows, summary } = await readFlowFile(WEB, { windows: false });
    expect(summary).toMatchObject({ format: 'pcap', records: 598, used: 598, flows: 18 });
    const state = (pred: (f: FlowRecord) => boolean) => [...new Set(flows.filter(pred).map((f) => f.conn_state))];
    expect(state((f) => f.dst_port === 8080 || f.dst_port === 8081)).toEqual(['SF']);
    expect(state((f) => f.dst_port === 9)).toEqual(['REJ']);
    const established = (pred: (f: FlowRecord) => boolean) => [...new Set(flows.filter(pred).map((f) => f.tcp_established))];
    expect([established((f) => f.dst_port === 8080), established((f) => f.dst_port === 9), established((f) => f.protocol !== 6)]).toEqual([[1], [0], [0]]);
    expect(state((f) => f.protocol === 17)).toEqual(['SF']);
    // ping on loopback: both ends are the same address with port 0, so (as in nfstream) every
    // packet counts as src2dst and the flow looks unanswered
    expect(flows.filter((f) => f.protocol === 1 || f.protocol === 58).map((f) => [f.dst2src_packets, f.conn_state])).toEqual([
      [0, 'S0'],
      [0, 'S0'],
    ]);
    expect(flows.filter((f) => f.dst_port === 9).map((f) => f.ip_version).sort()).toEqual([4, 6]);
    const service = (port: number) => [...new Set(flows.filter((f) => f.dst_port === port).map((f) => f.service))];
    expect([service(8080), service(8081), service(9), service(5353)]).toEqual([['http'], ['other'], ['other'], ['mdns']]);
  });

  it('window features equal their definitions, flow by flow', async () => {
    for (const file of [WEB, PAUSES]) {
      const raw = (await readFlowFile(file, { windows: false, meter: { idleTimeoutMs: 1000, activeTimeoutMs: 3000 } })).flows;
      const w = new WindowFeatures();
      const withWindows = raw.map((f) => w.add({ ...f }));
      withWindows.forEach((f, k) => {
        const want = reference(raw, k);
        for (const name of WINDOW_FIELDS) expect([k, name, f[name]]).toEqual([k, name, want[name]]);
      });
    }
  });

  it('a flow line reads back to the same values (CSV under the flow header)', async () => {
    const { flows } = await readFlowFile(WEB);
    const header = FLOW_CSV_HEADER.split(',');
    expect(header).toEqual([...FLOW_FIELDS]);
    for (const f of flows) {
      const cells = flowCsvLine(f).split(',');
      header.forEach((name, j) => expect(typeof f[name] === 'number' ? Number(cells[j]) : cells[j]).toEqual(f[name]));
    }
  });
});

describe('npm run flows', () => {
  it('reads a pcap from a pipe into NDJSON, and a Zeek log into CSV', () => {
    const out = execFileSync(node, [cli('flows'), '--input', '-'], { input: readFileSync(WEB), stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as FlowRecord);
    expect(lines).toHaveLength(18);
    expect(Object.keys(lines[0]!)).toEqual([...FLOW_FIELDS]);
    const zeek = spawnSync(node, [cli('flows'), '--input', join(__dirname, 'fixtures', 'zeek', 'conn.log'), '--output-format', 'csv']);
    expect(zeek.status).toBe(0);
    const csv = zeek.stdout.toString().trim().split('\n');
    expect(csv[0]).toBe(FLOW_CSV_HEADER);
    expect(csv).toHaveLength(361);
    expect(zeek.stderr.toString()).toMatch(/\(zeek-tsv\): 360 log records -> 360 flows/);
  });

  it('fails with one line and a documented code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flows-'));
    writeFileSync(join(dir, 'notes.txt'), 'hello, these are notes\n');
    const run = (...args: string[]) => spawnSync(node, [cli('flows'), ...args]);
    const cases: Array<[string[], number, RegExp]> = [
      [['--input', join(dir, 'notes.txt')], 4, /notes\.txt is not a pcap or pcapng capture or a Zeek conn\.log \(it starts with 68 65 6c 6c\)/],
      [['--input', join(dir, 'missing.pcap')], 4, /cannot read input .*missing\.pcap: no such file/],
      [['--input', WEB, '--format', 'zeek'], 4, /is not a Zeek log/],
      [['--input', WEB, '--out', join(dir, 'no', 'such', 'dir.ndjson')], 5, /cannot write the flows to .*dir\.ndjson: ENOENT/],
      [['--input', WEB, '--idle-timeout', 'soon'], 2, /--idle-timeout must be a number > 0, got "soon"/],
      [['--input', WEB, '--accounting', 'bits'], 2, /--accounting must be link, ip, transport or payload, got "bits"/],
    ];
    for (const [args, code, message] of cases) {
      const r = run(...args);
      expect([args.join(' '), r.status]).toEqual([args.join(' '), code]);
      const err = r.stderr.toString();
      expect(err).toMatch(message);
      expect(err.trim().split('\n')[0]).toMatch(/^flows: /);
      expect(err).not.toMatch(/\n\s+at /);
    }
  });
});

describe('npm run stream --format pcap', () => {
  it('scores flows from a pipe as they expire; each alert names its flow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-pcap-'));
    const train = (await readFlowFile(PAUSES)).flows;
    const test = (await readFlowFile(WEB)).flows;
    const labelled = (flows: FlowRecord[], source: string) => ({ source, flows, labels: flows.map((f) => (f.conn_state === 'REJ' ? 'refused' : 'normal')) });
    const pc = prepareCaptures(labelled([...train, ...train, ...train], 'pauses'), labelled(test, 'web'), { features: 'window', validationFraction: 0.3 });
    const model = join(dir, 'flows-model.json');
    saveBundle(model, captureBundle(pc, 0, 0.01, undefined, new Date(0)));
    const r = spawnSync(node, [cli('stream'), '--model', model, '--input', '-', '--format', 'pcap', '--explain', '2', '--quiet'], { input: readFileSync(WEB) });
    expect(r.status).toBe(0);
    const err = r.stderr.toString();
    expect(err).toMatch(/lines read 18 = header 0 \+ scored 18 \+ rejected 0/);
    expect(err).toMatch(/flows from stdin \(pcap\): 598 packets -> 18 flows/);
    const alerts = r.stdout.toString().trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(Object.keys(a.flow)).toEqual(['src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'bidirectional_first_seen_ms', 'bidirectional_last_seen_ms', 'conn_state', 'service']);
      expect(a.explain).toHaveLength(2);
      expect(Object.keys(a.record).sort()).toEqual([...WINDOW_FIELDS].sort());
    }
    // the same flows read by the library give the same alerts' records
    const flows: FlowRecord[] = [];
    await readFlows(createReadStream(WEB), (f) => flows.push(f), { name: WEB });
    for (const a of alerts) {
      const f = flows[a.line - 1]!;
      expect([a.flow.src_ip, a.flow.src_port, a.flow.dst_port]).toEqual([f.src_ip, f.src_port, f.dst_port]);
      for (const k of WINDOW_FIELDS) expect(a.record[k]).toBe(f[k]);
    }
  });
});

describe('npm run stream --format pcap: the same rules as every mode', () => {
  it('a key refuses an unsigned bundle (exit 3); a file that is not a capture is exit 4 with one line; a model of other features is exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-pcap-rules-'));
    const train = (await readFlowFile(PAUSES)).flows;
    const test = (await readFlowFile(WEB)).flows;
    const normal = { source: 'pauses', flows: [...train, ...train, ...train], labels: [...train, ...train, ...train].map(() => 'normal') };
    const labelled = { source: 'web', flows: test, labels: test.map((f) => (f.conn_state === 'REJ' ? 'refused' : 'normal')) };
    const model = join(dir, 'model.json');
    saveBundle(model, captureBundle(prepareCaptures(normal, labelled, {}), 0, 0.1, undefined, new Date(0)));
    // no key unless a case sets one (an empty ANOMALY_MODEL_KEY is refused as a key)
    const base = { ...process.env };
    delete base.ANOMALY_MODEL_KEY;
    const run = (args: string[], env: Record<string, string> = {}, input?: Buffer) => spawnSync(node, [cli('stream'), '--model', model, '--quiet', ...args], { input, env: { ...base, ...env } });
    const keyed = run(['--input', WEB, '--format', 'pcap'], { ANOMALY_MODEL_KEY: 'a-key-of-at-least-32-characters-0123456789' });
    expect(keyed.status).toBe(3);
    expect(keyed.stderr.toString()).toMatch(/^stream: cannot use the model: .*(unsigned|signature)/m);
    writeFileSync(join(dir, 'notes.txt'), 'not a capture\n');
    const notCapture = run(['--input', join(dir, 'notes.txt'), '--format', 'pcap']);
    expect(notCapture.status).toBe(4);
    expect(notCapture.stderr.toString()).toMatch(/notes\.txt is not a pcap or pcapng capture/);
    expect(notCapture.stderr.toString()).not.toMatch(/\n\s+at /);
    // a model of the simulated traffic (its features are not flow fields) cannot read flows
    const other = join(dir, 'other.json');
    saveBundle(other, bundleFromPipeline(runPipeline({ ...DEFAULT_PARAMS, nNormal: 500, nAnomalous: 25, nEstimators: 10 }), new Date(0)));
    const mismatch = spawnSync(node, [cli('stream'), '--model', other, '--input', WEB, '--format', 'pcap', '--quiet'], { env: base });
    expect(mismatch.status).toBe(3);
    expect(mismatch.stderr.toString()).toMatch(/^stream: cannot score flows with .*other\.json: the model reads "[^"]+".*which flows do not have/m);
    // SIGINT while the pipe stays open (tcpdump still capturing): the command ends, exit 0
    const live = spawn(node, [cli('stream'), '--model', model, '--input', '-', '--format', 'pcap', '--quiet'], { env: base, stdio: ['pipe', 'pipe', 'pipe'] });
    live.stdin.write(readFileSync(WEB));
    let liveErr = '';
    live.stderr.on('data', (d) => (liveErr += d));
    await new Promise((r) => setTimeout(r, 1500));
    live.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => resolve(-1), 10_000);
      live.on('close', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    if (code === -1) live.kill('SIGKILL');
    expect([code, liveErr]).toEqual([0, expect.stringMatching(/done \(signal\)/)]);

    // gzip through a pipe
    const gz = spawnSync(node, [cli('stream'), '--model', model, '--input', '-', '--format', 'pcap', '--quiet'], { input: gzipSync(readFileSync(WEB)), env: base });
    expect(gz.status).toBe(0);
    expect(gz.stderr.toString()).toMatch(/flows from stdin \(pcap, gzip\): 598 packets -> 18 flows/);
  });
});

describe('capture bundles', () => {
  it('refuse a test capture with no attack labelled, naming it (its stored metrics would be undefined)', async () => {
    const flows = (await readFlowFile(WEB)).flows;
    const all = { source: 'web.pcap', flows: [...flows, ...flows], labels: [...flows, ...flows].map(() => 'normal') };
    const pc = prepareCaptures(all, { ...all, source: 'test.pcap' }, {});
    expect(() => captureBundle(pc, 0, 0.1)).toThrow(/^test\.pcap: no flow is labelled as an attack \(by the truth file\)/);
  });
});

describe('flows through Redis: the probe meters, the group scores', () => {
  const redis = useThrowawayRedis();
  it('npm run publish --format pcap, then a consumer with a log1p flow model: the same alerts as the pipe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flows-redis-'));
    const flowsOf = async (p: string) => (await readFlowFile(p)).flows;
    const train = await flowsOf(PAUSES);
    const test = await flowsOf(WEB);
    const labelled = (flows: FlowRecord[], source: string) => ({ source, flows, labels: flows.map((f) => (f.conn_state === 'REJ' ? 'refused' : 'normal')) });
    // log1p puts an encoder in the bundle: its parser reads the flow header's columns by name
    const pc = prepareCaptures(labelled([...train, ...train, ...train], 'pauses'), labelled(test, 'web'), { features: 'all', log1p: true });
    const model = join(dir, 'model.json');
    // a threshold that flags a third of the validation flows: enough alerts to compare
    saveBundle(model, captureBundle(pc, 0, 0.34, undefined, new Date(0)));
    const pub = spawnSync(node, [cli('publish'), '--redis', redis.url, '--stream', 'flows', '--input', WEB, '--format', 'pcap', '--records-per-entry', '5']);
    expect([pub.status, pub.stderr.toString()]).toEqual([0, expect.stringMatching(/18 records in 4 entries[\s\S]*flows from .*web\.pcap \(pcap\): 598 packets -> 18 flows/)]);
    const group = spawnSync(node, [cli('stream'), '--model', model, '--redis', redis.url, '--stream', 'flows', '--group', 'g', '--consumer', 'c1', '--exit-when-idle', '500', '--quiet', '--alerts', join(dir, 'group.ndjson')]);
    expect([group.status, group.stderr.toString()]).toEqual([0, expect.stringMatching(/scored 18 \+ rejected 0/)]);
    const pipe = spawnSync(node, [cli('stream'), '--model', model, '--input', WEB, '--format', 'pcap', '--quiet']);
    expect(pipe.status).toBe(0);
    const key = (a: { record: Record<string, number>; score: number }) => JSON.stringify([a.score, a.record]);
    const groupAlerts = readFileSync(join(dir, 'group.ndjson'), 'utf8').trim().split('\n').filter(Boolean).map((l) => key(JSON.parse(l)));
    const pipeAlerts = pipe.stdout.toString().trim().split('\n').filter(Boolean).map((l) => key(JSON.parse(l)));
    expect(pipeAlerts.length).toBeGreaterThan(0);
    expect(groupAlerts).toEqual(pipeAlerts);
  });
});
