import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, readCapture, type CaptureReadSummary } from '../src/capture/capture-reader';
import { decodeFrame } from '../src/capture/decode';
import { LinkType, newDecodedPacket, type FrameSink, type SkipReason } from '../src/capture/packet';

/*
 * Captures made by tcpdump / dumpcap in a network namespace, and files derived from
 * them (scripts/fixtures/captures.py). expected.json holds tshark's reading of every
 * frame, turned into nfstream's fields and sizes by that script: the reader and the
 * decoder are checked against Wireshark, not against themselves.
 */

const DIR = join(__dirname, 'fixtures', 'captures');
const scratch = mkdtempSync(join(tmpdir(), 'captures-'));

interface ExpectedPacket {
  timeMs: number;
  ipVersion: number;
  protocol: number;
  vlanId: number;
  srcIp: number[];
  dstIp: number[];
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  rawSize: number;
  ipSize: number;
  transportSize: number;
  payloadSize: number;
}
interface ExpectedFrame {
  seconds: number;
  nanoseconds: number;
  capturedLength: number;
  originalLength: number;
  timeFrom?: string;
  skip?: SkipReason;
  packet?: ExpectedPacket;
}
type ExpectedFile = { frames: ExpectedFrame[]; blocks?: Record<string, number> } | { sameAs: string };
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { files: Record<string, ExpectedFile> };

function framesOf(name: string): ExpectedFrame[] {
  const e = expected.files[name];
  return 'sameAs' in e ? framesOf(e.sameAs) : e.frames;
}
function blocksOf(name: string, type: number): number {
  const e = expected.files[name];
  if ('sameAs' in e || e.blocks === undefined) throw new Error(`${name} has no block counts`);
  return e.blocks[`0x${type.toString(16).padStart(8, '0')}`] ?? 0;
}

/** one read frame: what the reader handed over and what the decoder made of it */
interface ReadFrame {
  linkType: number;
  seconds: number;
  nanoseconds: number;
  capturedLength: number;
  originalLength: number;
  skip?: SkipReason;
  packet?: ExpectedPacket;
}

/** a sink that decodes every frame (as the meter will) and keeps plain copies */
class Collector implements FrameSink {
  readonly frames: ReadFrame[] = [];
  readonly skips: SkipReason[] = [];
  private readonly out = newDecodedPacket();

  frame(linkType: number, seconds: number, nanoseconds: number, data: Uint8Array, offset: number, capturedLength: number, originalLength: number): void {
    const f: ReadFrame = { linkType, seconds, nanoseconds, capturedLength, originalLength };
    const reason = decodeFrame(linkType, data, offset, capturedLength, originalLength, seconds, nanoseconds, this.out);
    if (reason !== null) f.skip = reason;
    else {
      const o = this.out;
      f.packet = {
        vlanId: o.vlanId,
        ipVersion: o.ipVersion,
        srcIp: Array.from(o.srcIp),
        dstIp: Array.from(o.dstIp),
        ipSize: o.ipSize,
        protocol: o.protocol,
        timeMs: o.timeMs,
        rawSize: o.rawSize,
        srcPort: o.srcPort,
        dstPort: o.dstPort,
        tcpFlags: o.tcpFlags,
        transportSize: o.transportSize,
        payloadSize: o.payloadSize,
      };
    }
    this.frames.push(f);
  }

  skip(reason: SkipReason): void {
    this.skips.push(reason);
  }
}

async function read(input: Readable, name?: string): Promise<{ summary: CaptureReadSummary; sink: Collector }> {
  const sink = new Collector();
  const summary = await readCapture(input, sink, name === undefined ? {} : { name });
  return { summary, sink };
}
const readFile = (path: string) => read(createReadStream(path));
const fixture = (name: string) => join(DIR, name);
const bytesOf = (name: string) => readFileSync(fixture(name));

/** the same bytes delivered in chunks of the given sizes, cycled (as a pipe might) */
function chunked(bytes: Buffer, sizes: number[]): Readable {
  const parts: Buffer[] = [];
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    parts.push(bytes.subarray(p, p + n));
    p += n;
  }
  return Readable.from(parts, { objectMode: false });
}

function writeScratch(name: string, bytes: Buffer | string): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

async function formatError(input: Readable | string): Promise<CaptureFormatError> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  let err: unknown;
  try {
    await readCapture(stream, new Collector());
  } catch (e) {
    err = e;
  }
  expect(err, 'the reader must refuse this input').toBeInstanceOf(CaptureFormatError);
  expect((err as Error).message).not.toContain('\n');
  return err as CaptureFormatError;
}

/**
 * Compare every frame with tshark's reading, naming the frame on a mismatch; with
 * `prefix`, `got` may stop early (a damaged copy) but must match as far as it goes.
 */
function expectFrames(name: string, got: ReadFrame[], prefix = false): void {
  const want = prefix ? framesOf(name).slice(0, got.length) : framesOf(name);
  expect(got.length, `${name}: frames`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const label = `${name} frame ${i + 1}`;
    expect({ s: g.seconds, ns: g.nanoseconds, cap: g.capturedLength, len: g.originalLength }, label).toEqual({
      s: w.seconds,
      ns: w.nanoseconds,
      cap: w.capturedLength,
      len: w.originalLength,
    });
    if (w.skip !== undefined) expect(g.skip, label).toBe(w.skip);
    else expect(g.packet, label).toEqual(w.packet);
  }
}

// pcap record offsets, walked with plain arithmetic (for making damaged copies)
function pcapRecordOffsets(b: Buffer): number[] {
  const offsets: number[] = [];
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) offsets.push(p);
  return offsets;
}
function pcapngBlocks(b: Buffer): { offset: number; type: number; length: number }[] {
  const blocks: { offset: number; type: number; length: number }[] = [];
  for (let p = 0; p + 12 <= b.length; ) {
    const length = b.readUInt32LE(p + 4);
    blocks.push({ offset: p, type: b.readUInt32LE(p), length });
    p += length;
  }
  return blocks;
}

describe('capture readers on real captures, checked against tshark', () => {
  const cases: { file: string; format: 'pcap' | 'pcapng'; linkTypes: number[]; gzip?: boolean }[] = [
    { file: 'eth-us.pcap', format: 'pcap', linkTypes: [LinkType.ETHERNET] },
    { file: 'eth-be.pcap', format: 'pcap', linkTypes: [LinkType.ETHERNET] },
    { file: 'eth-us.pcap.gz', format: 'pcap', linkTypes: [LinkType.ETHERNET], gzip: true },
    { file: 'snap96.pcap', format: 'pcap', linkTypes: [LinkType.ETHERNET] },
    { file: 'vlan.pcap', format: 'pcap', linkTypes: [LinkType.ETHERNET] },
    { file: 'tunnel.pcap', format: 'pcap', linkTypes: [LinkType.ETHERNET] },
    { file: 'sll.pcap', format: 'pcap', linkTypes: [LinkType.LINUX_SLL] },
    { file: 'sll2-ns.pcap', format: 'pcap', linkTypes: [LinkType.LINUX_SLL2] },
    { file: 'raw.pcap', format: 'pcap', linkTypes: [LinkType.RAW] },
    { file: 'null.pcap', format: 'pcap', linkTypes: [LinkType.NULL] },
    { file: 'loop.pcap', format: 'pcap', linkTypes: [LinkType.LOOP] },
    { file: 'two-if.pcapng', format: 'pcapng', linkTypes: [LinkType.ETHERNET, LinkType.RAW] },
    {
      file: 'crafted.pcapng',
      format: 'pcapng',
      linkTypes: [LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL2],
    },
  ];
  for (const c of cases) {
    it(`${c.file}: every frame's time, lengths and decoded fields`, async () => {
      const { summary, sink } = await readFile(fixture(c.file));
      expect(summary.format).toBe(c.format);
      expect(summary.gzip).toBe(c.gzip === true);
      expect(summary.linkTypes).toEqual(c.linkTypes);
      expect(summary.records).toBe(framesOf(c.file).length);
      expect(summary.stoppedBy).toBeNull();
      expect(summary.skipped).toBe(0);
      expect(sink.skips).toEqual([]);
      expect(summary.bytes).toBe(c.gzip ? bytesOf('eth-us.pcap').length : bytesOf(c.file).length);
      expectFrames(c.file, sink.frames);
    });
  }

  it('the fixtures hold what they are meant to test', async () => {
    const eth = framesOf('eth-us.pcap');
    const packets = eth.filter((f) => f.packet).map((f) => f.packet!);
    const protocols = new Set(packets.map((p) => `${p.ipVersion}/${p.protocol}`));
    for (const p of ['4/1', '4/6', '4/17', '4/2', '6/6', '6/17', '6/58']) expect(protocols, p).toContain(p);
    expect(eth.filter((f) => f.skip === 'not-ip').length).toBeGreaterThan(0); // ARP
    expect(eth.filter((f) => f.skip === 'ip-fragment').length).toBe(8); // 2 x (v4, v6) x 2 later fragments
    // ECN negotiation sets ECE + CWR on the SYN
    expect(packets.some((p) => p.tcpFlags === 0xc2)).toBe(true);
    expect(packets.some((p) => (p.tcpFlags & 0x04) !== 0)).toBe(true); // the reset
    expect(new Set(framesOf('vlan.pcap').map((f) => f.packet?.vlanId))).toEqual(new Set([0, 42, 7, undefined]));
    // the nanosecond captures keep digits below the microsecond
    expect(framesOf('sll2-ns.pcap').some((f) => f.nanoseconds % 1000 !== 0)).toBe(true);
  });

  it('a capture cut to 96 bytes a packet still reports the sizes in its IP headers', async () => {
    const { sink } = await readFile(fixture('snap96.pcap'));
    const cut = sink.frames.filter((f) => f.capturedLength < f.originalLength && f.packet);
    expect(cut.length).toBeGreaterThan(5);
    for (const f of cut) {
      expect(f.capturedLength).toBe(96);
      expect(f.packet!.rawSize).toBe(f.originalLength);
      // the IP header's length, not the captured one: Ethernet + (IPv6's fixed header) + ipSize is the frame
      expect(14 + (f.packet!.ipVersion === 6 ? 40 : 0) + f.packet!.ipSize).toBe(f.originalLength);
    }
    // and the same packets, sizes included, as the full capture of the same traffic
    const sizes = (frames: { packet?: ExpectedPacket }[]) =>
      frames.map((f) => (f.packet ? [f.packet.ipSize, f.packet.transportSize, f.packet.payloadSize] : null));
    expect(sizes(sink.frames)).toEqual(sizes(framesOf('eth-us.pcap')));
  });

  it('pcapng: two interfaces of different link types, statistics blocks counted as unknown', async () => {
    const { summary, sink } = await readFile(fixture('two-if.pcapng'));
    expect(summary.interfaces).toBe(2);
    expect(summary.sections).toBe(1);
    expect(summary.unknownBlocks).toBe(blocksOf('two-if.pcapng', 5));
    expect(summary.unknownBlocks).toBeGreaterThan(0);
    expect(new Set(sink.frames.map((f) => f.linkType))).toEqual(new Set([LinkType.ETHERNET, LinkType.RAW]));
  });

  it('pcapng: big- and little-endian sections, simple / obsolete packet blocks, tsresol 2^-20 and 10^-9, if_tsoffset', async () => {
    const { summary, sink } = await readFile(fixture('crafted.pcapng'));
    expect(summary.sections).toBe(2);
    expect(summary.interfaces).toBe(6);
    // name resolution, custom and statistics blocks
    expect(summary.unknownBlocks).toBe(blocksOf('crafted.pcapng', 4) + blocksOf('crafted.pcapng', 0xbad) + blocksOf('crafted.pcapng', 5));
    expect(summary.unknownBlocks).toBe(3);
    const frames = framesOf('crafted.pcapng');
    expect(summary.records).toBe(blocksOf('crafted.pcapng', 6) + blocksOf('crafted.pcapng', 3) + blocksOf('crafted.pcapng', 2));
    // simple packet blocks: interface 0's snap length (128) caps the captured length; no time of their own
    const simple = frames.filter((f) => f.timeFrom !== undefined);
    expect(simple.length).toBe(blocksOf('crafted.pcapng', 3));
    expect(simple.some((f) => f.originalLength > 128 && f.capturedLength === 128)).toBe(true);
    expect(sink.frames.filter((f) => f.linkType === LinkType.IPV4 || f.linkType === LinkType.IPV6).every((f) => f.packet)).toBe(true);
  });
});

describe('capture readers: chunking and input kinds', () => {
  for (const name of ['eth-us.pcap', 'eth-be.pcap', 'crafted.pcapng', 'two-if.pcapng', 'sll2-ns.pcap']) {
    it(`${name}: the same frames whatever the chunk sizes (records split across chunks)`, async () => {
      const bytes = bytesOf(name);
      for (const sizes of [[1], [7, 3], [13, 4096, 2], [65536]]) {
        const { summary, sink } = await read(chunked(bytes, sizes));
        expect(summary.stoppedBy, String(sizes)).toBeNull();
        expectFrames(name, sink.frames);
      }
    });
  }

  it('gzip through a pipe in small writes (as from tcpdump -w - | gzip)', async () => {
    const pipe = new PassThrough();
    const reading = read(pipe, 'stdin');
    const gz = bytesOf('eth-us.pcap.gz');
    for (let p = 0; p < gz.length; p += 100) pipe.write(gz.subarray(p, p + 100));
    pipe.end();
    const { summary, sink } = await reading;
    expect(summary.gzip).toBe(true);
    expectFrames('eth-us.pcap', sink.frames);
  });

  it('a pcapng block too large to buffer (1.5 MiB custom block) is streamed past and counted', async () => {
    const bytes = bytesOf('two-if.pcapng');
    const blocks = pcapngBlocks(bytes);
    const at = blocks.find((b) => b.type === 6)!.offset;
    const size = 1536 * 1024;
    const big = Buffer.alloc(size);
    big.writeUInt32LE(0x40000bad, 0);
    big.writeUInt32LE(size, 4);
    big.writeUInt32LE(size, size - 4);
    const file = Buffer.concat([bytes.subarray(0, at), big, bytes.subarray(at)]);
    for (const sizes of [[65536], [1000, 77]]) {
      const { summary, sink } = await read(chunked(file, sizes));
      expect(summary.unknownBlocks).toBe(blocksOf('two-if.pcapng', 5) + 1);
      expectFrames('two-if.pcapng', sink.frames);
    }
  });

  it('an input that fails rejects with its own error', async () => {
    const missing = join(scratch, 'no-such.pcap');
    await expect(readCapture(createReadStream(missing), new Collector())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('capture readers: damaged and wrong inputs', () => {
  const eth = bytesOf('eth-us.pcap');
  const ethFrames = framesOf('eth-us.pcap').length;

  it('a file that is not a capture: CaptureFormatError naming it and its first bytes', async () => {
    const path = writeScratch('notes.txt', '# Notes on the lab network\n');
    const err = await formatError(path);
    expect(err.message).toBe(`not a capture file: ${path} (starts with 23 20 4e 6f, expected a pcap or pcapng magic)`);
    const named = await formatError(Readable.from([Buffer.from('# Notes')]));
    expect(named.message).toContain('capture input');
    const gz = await formatError(writeScratch('notes.txt.gz', gzipSync('# Notes on the lab network\n')));
    expect(gz.message).toContain('gunzipped, starts with 23 20 4e 6f');
  });

  it('an empty file, a 3-byte file and a broken gzip header: CaptureFormatError', async () => {
    expect((await formatError(writeScratch('empty.pcap', ''))).message).toBe(`not a capture file: ${join(scratch, 'empty.pcap')} (empty)`);
    expect((await formatError(writeScratch('short.pcap', eth.subarray(0, 3)))).message).toContain('only 3 bytes: d4 c3 b2');
    const badGzip = Buffer.from(bytesOf('eth-us.pcap.gz'));
    badGzip[3] = 0xff; // reserved flag bits
    expect((await formatError(writeScratch('bad.pcap.gz', badGzip))).message).toMatch(/^not a readable gzip capture: .*bad\.pcap\.gz \(/);
  });

  it('a file cut inside its file header: CaptureFormatError (pcap and pcapng)', async () => {
    expect((await formatError(writeScratch('head.pcap', eth.subarray(0, 10)))).message).toMatch(/^truncated capture file: .*head\.pcap .*pcap file header/);
    const ng = bytesOf('two-if.pcapng');
    expect((await formatError(writeScratch('head.pcapng', ng.subarray(0, 20)))).message).toMatch(/^truncated capture file: .*head\.pcapng/);
  });

  it('a last packet cut short (in its data, in its header): the others read, one truncated-record', async () => {
    const offsets = pcapRecordOffsets(eth);
    for (const cut of [20, eth.length - offsets[offsets.length - 1] - 5]) {
      const { summary, sink } = await readFile(writeScratch(`cut${cut}.pcap`, eth.subarray(0, eth.length - cut)));
      expect(summary.records).toBe(ethFrames - 1);
      expect(sink.skips).toEqual(['truncated-record']);
      expect(summary.stoppedBy).toBe('truncated-record');
      expect(summary.skipped).toBe(1);
      expectFrames('eth-us.pcap', sink.frames, true);
    }
    const ng = bytesOf('two-if.pcapng');
    const blocks = pcapngBlocks(ng);
    const lastEpb = blocks.filter((b) => b.type === 6).pop()!;
    const { summary, sink } = await readFile(writeScratch('cut.pcapng', ng.subarray(0, lastEpb.offset + 40)));
    expect(summary.records).toBe(framesOf('two-if.pcapng').length - 1);
    expect(sink.skips).toEqual(['truncated-record']);
    expectFrames('two-if.pcapng', sink.frames, true);
  });

  it('a gzip file cut short reads what it holds, then truncated-record', async () => {
    const gz = bytesOf('eth-us.pcap.gz');
    const { summary, sink } = await readFile(writeScratch('cut.pcap.gz', gz.subarray(0, gz.length - 400)));
    expect(summary.gzip).toBe(true);
    expect(summary.records).toBeGreaterThan(10);
    expect(summary.records).toBeLessThan(ethFrames);
    expect(summary.stoppedBy).toBe('truncated-record');
    expectFrames('eth-us.pcap', sink.frames, true);
  });

  it('a pcap record with an impossible captured length: corrupt-record, reading stops', async () => {
    const bad = Buffer.from(eth);
    const offsets = pcapRecordOffsets(eth);
    bad.writeUInt32LE(0x00100000, offsets[5] + 8); // 1 MiB, over libpcap's 256 KiB
    const { summary, sink } = await read(chunked(bad, [4096]));
    expect(summary.records).toBe(5);
    expect(sink.skips).toEqual(['corrupt-record']);
    expect(summary.stoppedBy).toBe('corrupt-record');
    expectFrames('eth-us.pcap', sink.frames, true);
  });

  it('pcapng block lengths that contradict themselves: corrupt-record, reading stops', async () => {
    const ng = bytesOf('two-if.pcapng');
    const epbs = pcapngBlocks(ng).filter((b) => b.type === 6);
    const at = epbs[3];
    const edits: [string, (b: Buffer) => void][] = [
      ['length not a multiple of 4', (b) => b.writeUInt32LE(at.length + 2, at.offset + 4)],
      ['length under 12', (b) => b.writeUInt32LE(8, at.offset + 4)],
      ['trailer differs', (b) => b.writeUInt32LE(at.length + 4, at.offset + at.length - 4)],
    ];
    for (const [what, edit] of edits) {
      const bad = Buffer.from(ng);
      edit(bad);
      const { summary, sink } = await read(chunked(bad, [1000]));
      expect(summary.records, what).toBe(3);
      expect(sink.skips, what).toEqual(['corrupt-record']);
      expect(summary.stoppedBy, what).toBe('corrupt-record');
    }
  });

  it('a well-framed pcapng block with bad contents is skipped and reading goes on', async () => {
    const ng = bytesOf('two-if.pcapng');
    const epbs = pcapngBlocks(ng).filter((b) => b.type === 6);
    const bad = Buffer.from(ng);
    bad.writeUInt32LE(7, epbs[2].offset + 8); // interface 7 of 2
    bad.writeUInt32LE(epbs[4].length, epbs[4].offset + 20); // captured length beyond the block
    const { summary, sink } = await readFile(writeScratch('inner.pcapng', bad));
    expect(sink.skips).toEqual(['corrupt-record', 'corrupt-record']);
    expect(summary.stoppedBy).toBeNull();
    expect(summary.records).toBe(framesOf('two-if.pcapng').length - 2);
    const want = framesOf('two-if.pcapng').filter((_, i) => i !== 2 && i !== 4);
    expect(sink.frames.map((f) => [f.seconds, f.nanoseconds])).toEqual(want.map((f) => [f.seconds, f.nanoseconds]));
  });

  it('a link type the decoder does not read: every frame unsupported-link-type, still counted', async () => {
    const other = Buffer.from(eth);
    other.writeUInt32LE(105, 20); // IEEE 802.11
    const { summary, sink } = await readFile(writeScratch('wifi.pcap', other));
    expect(summary.linkTypes).toEqual([105]);
    expect(summary.records).toBe(ethFrames);
    expect(new Set(sink.frames.map((f) => f.skip))).toEqual(new Set(['unsupported-link-type']));
  });
});

describe('packet decoder: encapsulations and nfstream rules, on real frames', () => {
  // real frames from the Ethernet capture, with tshark's expected values
  const records = (() => {
    const b = bytesOf('eth-us.pcap');
    return pcapRecordOffsets(b).map((p, i) => ({
      frame: b.subarray(p + 16, p + 16 + b.readUInt32LE(p + 8)),
      want: framesOf('eth-us.pcap')[i],
    }));
  })();
  const udp4 = records.find((r) => r.want.packet?.protocol === 17 && r.want.packet.ipVersion === 4)!;
  const tcp6 = records.find((r) => r.want.packet?.protocol === 6 && r.want.packet.ipVersion === 6)!;

  function decode(linkType: number, frame: Buffer, originalLength = frame.length) {
    const out = newDecodedPacket();
    // at an offset inside a larger buffer, as the reader hands frames over
    const data = Buffer.concat([Buffer.alloc(5, 0xee), frame, Buffer.alloc(3, 0xee)]);
    const reason = decodeFrame(linkType, data, 5, frame.length, originalLength, udp4.want.seconds, udp4.want.nanoseconds, out);
    return { reason, out };
  }
  const withHeader = (r: { frame: Buffer }, etherTypeAndShim: string) =>
    Buffer.concat([r.frame.subarray(0, 12), Buffer.from(etherTypeAndShim, 'hex'), r.frame.subarray(14)]);

  for (const [what, shim] of [
    ['an MPLS label stack (two labels)', '8847' + '00064' + '0ff' + '00065' + '1ff'],
    ['a PPPoE session', '8864' + '1100' + '0001' + '0000' + '0021'],
    ['802.1Q in 802.1Q (0x8100 twice)', '8100' + '0064' + '8100' + '002a' + '0800'],
  ] as const) {
    it(`IPv4 under ${what} decodes as the plain frame`, () => {
      const frame = withHeader(udp4, shim);
      const { reason, out } = decode(LinkType.ETHERNET, frame);
      expect(reason).toBeNull();
      const want = udp4.want.packet!;
      expect([out.protocol, out.srcPort, out.dstPort, out.ipSize, out.transportSize, out.payloadSize, out.srcIp[0], out.dstIp[0]]).toEqual([
        want.protocol, want.srcPort, want.dstPort, want.ipSize, want.transportSize, want.payloadSize, want.srcIp[0], want.dstIp[0],
      ]);
      expect(out.rawSize).toBe(frame.length);
      expect(out.vlanId).toBe(what.startsWith('802.1Q') ? 42 : 0);
    });
  }

  it('an 802.3 frame with LLC/SNAP carrying IPv6 decodes; other LLC frames are not IP', () => {
    const length = (tcp6.frame.length - 14 + 8).toString(16).padStart(4, '0');
    const snap = withHeader(tcp6, length + 'aaaa03000000' + '86dd');
    const { reason, out } = decode(LinkType.ETHERNET, snap);
    expect(reason).toBeNull();
    expect(out.srcPort).toBe(tcp6.want.packet!.srcPort);
    expect(out.payloadSize).toBe(tcp6.want.packet!.payloadSize);
    expect(decode(LinkType.ETHERNET, withHeader(tcp6, length + '424203000000')).reason).toBe('not-ip'); // spanning tree
  });

  it('fewer than 28 captured bytes are ignored, as nfstream does; headers beyond the capture are truncated-header', () => {
    expect(decode(LinkType.ETHERNET, udp4.frame.subarray(0, 27), udp4.frame.length).reason).toBe('truncated-header');
    // an Ethernet + IPv6 frame cut inside the IPv6 header
    expect(decode(LinkType.ETHERNET, tcp6.frame.subarray(0, 50), tcp6.frame.length).reason).toBe('truncated-header');
    // cut inside the TCP header: the ports are there but not the flags
    expect(decode(LinkType.ETHERNET, tcp6.frame.subarray(0, 14 + 40 + 10), tcp6.frame.length).reason).toBe('truncated-header');
    // cut right after the TCP flags: decodes with the sizes of the full packet
    const { reason, out } = decode(LinkType.ETHERNET, tcp6.frame.subarray(0, 14 + 40 + 14), tcp6.frame.length);
    expect(reason).toBeNull();
    expect(out.payloadSize).toBe(tcp6.want.packet!.payloadSize);
    expect(out.tcpFlags).toBe(tcp6.want.packet!.tcpFlags);
  });

  it('nfstream rules on lengths: short TCP/UDP become unknown transport, short total length and no-next-header are dropped', () => {
    // UDP whose IP total length leaves 7 transport bytes: protocol kept, ports and sizes 0
    const short = Buffer.from(udp4.frame);
    short.writeUInt16BE(20 + 7, 14 + 2);
    const a = decode(LinkType.ETHERNET, short);
    expect(a.reason).toBeNull();
    expect([a.out.protocol, a.out.srcPort, a.out.dstPort, a.out.ipSize, a.out.transportSize, a.out.payloadSize]).toEqual([17, 0, 0, 27, 0, 0]);
    // total length shorter than the IPv4 header
    short.writeUInt16BE(16, 14 + 2);
    expect(decode(LinkType.ETHERNET, short).reason).toBe('bad-ip-header');
    // IPv6 next header 59 (no next header)
    const none = Buffer.from(tcp6.frame);
    none[14 + 6] = 59;
    expect(decode(LinkType.ETHERNET, none).reason).toBe('bad-ip-header');
    // an IP version that is neither 4 nor 6
    const v5 = Buffer.from(udp4.frame);
    v5[14] = 0x55;
    expect(decode(LinkType.ETHERNET, v5).reason).toBe('bad-ip-header');
  });

  it('a TCP data offset beyond the transport length floors the payload at 0', () => {
    const tcp4 = records.find((r) => r.want.packet?.protocol === 6 && r.want.packet.ipVersion === 4 && r.want.packet.payloadSize === 0)!;
    const f = Buffer.from(tcp4.frame);
    const ihl = (f[14] & 15) * 4;
    f[14 + ihl + 12] = 0xf0; // 60-byte TCP header claimed
    const { reason, out } = decode(LinkType.ETHERNET, f);
    expect(reason).toBeNull();
    expect(out.transportSize).toBe(tcp4.want.packet!.transportSize);
    expect(out.payloadSize).toBe(0);
  });

  it('timeMs truncates the nanoseconds as nfstream truncates microseconds', () => {
    const out = newDecodedPacket();
    decodeFrame(LinkType.RAW, Buffer.from(udp4.frame.subarray(14)), 0, udp4.frame.length - 14, udp4.frame.length - 14, 1_700_000_000, 999_999_999, out);
    expect(out.timeMs).toBe(1_700_000_000_999);
  });
});
