/**
 * The contract between the capture readers (pcap, pcapng), the packet decoder and the
 * flow meter. A reader hands each captured frame to a {@link FrameSink}; the decoder
 * fills one reused {@link DecodedPacket} per frame (no allocation per packet: captures
 * run at a million packets a second); the meter reads it.
 *
 * Damage is counted, never thrown: a frame that cannot be used is reported to the sink
 * with a {@link SkipReason}, and the run goes on. Only a stream that is not a capture at
 * all (wrong magic) is an error.
 */

/** libpcap link-layer header types (LINKTYPE_* numbers, as written in pcap and pcapng files) */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the host byte order of the writer */
  NULL: 0,
  ETHERNET: 1,
  /** raw IPv4 or IPv6 (the version nibble tells) */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family, network byte order */
  LOOP: 108,
  /** Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10) */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux cooked capture v2 (`tcpdump -i any` since libpcap 1.10) */
  LINUX_SLL2: 276,
} as const;

/**
 * Why a frame was not metered. The names are the keys of the skip counters printed by
 * `npm run flows` and kept in `CaptureCounters.skipped`.
 */
export type SkipReason =
  /** the record header says more bytes than the file holds (cut short at the end) */
  | 'truncated-record'
  /** a record or block whose lengths contradict themselves (corrupt file) */
  | 'corrupt-record'
  /** a link type this decoder does not read (the record is kept in the count) */
  | 'unsupported-link-type'
  /** an EtherType / address family that is not IPv4 or IPv6 (ARP, LLDP, ...) */
  | 'not-ip'
  /** the captured bytes end inside the link, IP or transport header */
  | 'truncated-header'
  /** an IP header whose version, header length or total length is impossible */
  | 'bad-ip-header'
  /** a non-first IPv4 fragment (no ports: nfstream skips these too) */
  | 'ip-fragment';

/** every {@link SkipReason}, in the order reports print them */
export const SKIP_REASONS: readonly SkipReason[] = [
  'truncated-record',
  'corrupt-record',
  'unsupported-link-type',
  'not-ip',
  'truncated-header',
  'bad-ip-header',
  'ip-fragment',
];

/** TCP flag bits as in the TCP header's flags byte (plus ECE/CWR) */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * One decoded packet, filled in place by `decodeFrame`. Addresses are 4 big-endian
 * 32-bit words: IPv4 uses word 0 only (the rest 0), IPv6 all four. Ports are 0 for
 * ICMP, ICMPv6 and other transports, as in nfstream.
 */
export interface DecodedPacket {
  /** capture time in whole milliseconds since the epoch (nfstream's tick: sec*1000 + usec/1000, truncated) */
  timeMs: number;
  /** 4 or 6 */
  ipVersion: number;
  /** IP protocol number of the transport (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...) */
  protocol: number;
  /** 802.1Q VLAN id of the innermost tag, 0 without one */
  vlanId: number;
  readonly srcIp: Uint32Array;
  readonly dstIp: Uint32Array;
  srcPort: number;
  dstPort: number;
  /** TCP flag bits ({@link TcpFlag}); 0 for other transports */
  tcpFlags: number;
  /** the frame's length on the wire (the record's original length, link header included): nfstream accounting mode 0 */
  rawSize: number;
  /** IPv4 total length; for IPv6 the payload length (nfstream's definition): accounting mode 1 */
  ipSize: number;
  /** transport header + payload length from the IP header: accounting mode 2 */
  transportSize: number;
  /** payload after the transport header: accounting mode 3 */
  payloadSize: number;
}

/** a fresh {@link DecodedPacket} to be filled by the decoder */
export function newDecodedPacket(): DecodedPacket {
  return {
    timeMs: 0,
    ipVersion: 0,
    protocol: 0,
    vlanId: 0,
    srcIp: new Uint32Array(4),
    dstIp: new Uint32Array(4),
    srcPort: 0,
    dstPort: 0,
    tcpFlags: 0,
    rawSize: 0,
    ipSize: 0,
    transportSize: 0,
    payloadSize: 0,
  };
}

/**
 * What a capture reader calls for every record it reads. `data` is valid only during
 * the call (readers reuse their buffers). Times are split in whole seconds and
 * nanoseconds so that nanosecond captures lose nothing before the meter truncates.
 */
export interface FrameSink {
  /** one captured frame: `capturedLength` bytes at `data[offset..]`, `originalLength` on the wire */
  frame(
    linkType: number,
    seconds: number,
    nanoseconds: number,
    data: Uint8Array,
    offset: number,
    capturedLength: number,
    originalLength: number,
  ): void;
  /** a record that could not be read as a frame (counted; the reader goes on when it can) */
  skip(reason: SkipReason): void;
}
