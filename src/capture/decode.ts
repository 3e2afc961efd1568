/**
 * The packet decoder: one captured frame in, one {@link DecodedPacket} filled in place
 * (or the reason it cannot be metered). It reads the link header, any VLAN / MPLS /
 * PPPoE encapsulation, IPv4 or IPv6 (with extension headers and IP-in-IP), and the
 * transport header, and computes the four packet sizes the way nfstream 6.6 does
 * (`packet_process` and friends in its `lib_engine.c`), so that flows built from these
 * packets count what nfstream counts.
 *
 * Where nfstream's rules come from reading beyond the captured bytes, this decoder
 * asks only that the headers it reads be captured: a packet cut short by the snap
 * length still reports the sizes written in its IP header.
 *
 * Hot path: called once per packet at millions of packets a second, so it allocates
 * nothing and reads bytes with index arithmetic (no DataView, no subarray).
 */

import { LinkType, type DecodedPacket, type SkipReason } from './packet';

/**
 * nfstream ignores any frame with fewer than 28 captured bytes (its "min IP + min
 * UDP" check in packet_datalink_checker, applied to the whole frame).
 */
const MIN_CAPTURED = 28;

/** LINKTYPE 12: DLT_RAW's own number on Linux, which old files carry instead of 101 */
const LINKTYPE_RAW_LINUX = 12;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MULTI = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;

/** BSD address families that mean IPv6 (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30) */
const AF_INET = 2;

const PROTO_ICMP = 1;
const PROTO_IPIP = 4;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_IPV6 = 41;
const PROTO_ICMPV6 = 58;

/** big-endian 32-bit word (as an int32; Uint32Array stores it modulo 2^32) */
function be32(d: Uint8Array, i: number): number {
  return (d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3];
}

/**
 * Decode one frame into `out`. Returns null when `out` holds a packet to meter, else
 * the {@link SkipReason} (then `out` holds partial values and must not be used).
 *
 * @param linkType the capture's link type ({@link LinkType}, also 12 for old raw-IP files)
 * @param data the bytes holding the frame; only `data[offset .. offset + capturedLength)` is read
 * @param capturedLength bytes captured (at most the snap length)
 * @param originalLength the frame's length on the wire (becomes `rawSize`)
 * @param seconds capture time, whole seconds since the epoch
 * @param nanoseconds capture time, nanoseconds within the second
 * @param out the reused packet to fill
 */
export function decodeFrame(
  linkType: number,
  data: Uint8Array,
  offset: number,
  capturedLength: number,
  originalLength: number,
  seconds: number,
  nanoseconds: number,
  out: DecodedPacket,
): SkipReason | null {
  // nfstream's tick: sec * 1000 + usec / 1000, truncated; floor(ns / 1e6) is the same number
  out.timeMs = seconds * 1000 + Math.floor(nanoseconds / 1e6);
  out.rawSize = originalLength;
  if (capturedLength < MIN_CAPTURED) return 'truncated-header';
  const end = offset + capturedLength;
  let p = offset;
  // -1: no EtherType to check, the IP version nibble decides (as nfstream does for every link)
  let etherType = -1;
  let vlanId = 0;

  switch (linkType) {
    case LinkType.ETHERNET:
      etherType = (data[p + 12] << 8) | data[p + 13];
      p += 14;
      if (etherType <= 1500) {
        // an 802.3 length, not a type: only LLC + SNAP (DSAP or SSAP 0xAA) carries an EtherType
        if (data[p] !== 0xaa && data[p + 1] !== 0xaa) return 'not-ip';
        etherType = (data[p + 6] << 8) | data[p + 7];
        p += 8;
      }
      break;
    case LinkType.LINUX_SLL:
      etherType = (data[p + 14] << 8) | data[p + 15];
      p += 16;
      break;
    case LinkType.LINUX_SLL2:
      etherType = (data[p] << 8) | data[p + 1];
      p += 20;
      break;
    case LinkType.NULL:
    case LinkType.LOOP: {
      // NULL writes the family in the writer's byte order, LOOP in network order; the
      // families are small numbers, so whichever end holds the non-zero byte tells
      let family = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
      if (family > 0xffff) family = (data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24)) >>> 0;
      if (family !== AF_INET && family !== 24 && family !== 28 && family !== 30) return 'not-ip';
      p += 4;
      break;
    }
    case LinkType.RAW:
    case LINKTYPE_RAW_LINUX:
    case LinkType.IPV4:
    case LinkType.IPV6:
      break;
    default:
      return 'unsupported-link-type';
  }

  // Encapsulations nfstream unwraps (packet_ether_type_checker): VLAN tags (the last
  // tag's id wins), an MPLS label stack, a PPPoE session header. nfstream knows only
  // 0x8100 tags; 802.1ad (0x88a8) and the old 0x9100 are read the same way here.
  while (etherType !== -1 && etherType !== ETH_IPV4 && etherType !== ETH_IPV6) {
    if (etherType === ETH_VLAN || etherType === ETH_QINQ || etherType === ETH_QINQ_OLD) {
      if (p + 4 >= end) return 'truncated-header';
      vlanId = ((data[p] << 8) | data[p + 1]) & 0xfff;
      etherType = (data[p + 2] << 8) | data[p + 3];
      p += 4;
    } else if (etherType === ETH_MPLS || etherType === ETH_MPLS_MULTI) {
      // skip labels up to the bottom-of-stack one; what follows is taken as IP by its version
      let bottom = 0;
      while (bottom === 0) {
        if (p + 4 >= end) return 'truncated-header';
        bottom = data[p + 2] & 1;
        p += 4;
      }
      etherType = -1;
    } else if (etherType === ETH_PPPOE_SESSION) {
      // 6-byte PPPoE header, then the 2-byte PPP protocol: 0x0021 IPv4, 0x0057 IPv6
      if (p + 8 > end) return 'truncated-header';
      const ppp = (data[p + 6] << 8) | data[p + 7];
      if (ppp !== 0x0021 && ppp !== 0x0057) return 'not-ip';
      p += 8;
      etherType = -1;
    } else {
      return 'not-ip';
    }
  }
  out.vlanId = vlanId;

  // IP, looping for IP-in-IP (protocol 4) and IPv6-in-IP (41): nfstream always follows
  // the inner header and meters it (the outer addresses are not kept)
  let ipSize: number;
  let l4: number;
  let l4Length: number;
  let protocol: number;
  for (;;) {
    if (p + 20 > end) return 'truncated-header';
    const version = data[p] >> 4;
    if (version === 4) {
      const headerLength = (data[p] & 0x0f) * 4;
      if (headerLength < 20) return 'bad-ip-header';
      protocol = data[p + 9];
      if (protocol === PROTO_IPIP || protocol === PROTO_IPV6) {
        p += headerLength;
        continue;
      }
      if ((((data[p + 6] << 8) | data[p + 7]) & 0x1fff) !== 0) return 'ip-fragment';
      if (p + headerLength > end) return 'truncated-header';
      ipSize = (data[p + 2] << 8) | data[p + 3];
      // nfstream drops a total length shorter than the header (its unsigned l4 length wraps)
      if (ipSize < headerLength) return 'bad-ip-header';
      l4 = p + headerLength;
      l4Length = ipSize - headerLength;
      out.ipVersion = 4;
      const src = out.srcIp;
      const dst = out.dstIp;
      src[0] = be32(data, p + 12);
      src[1] = 0;
      src[2] = 0;
      src[3] = 0;
      dst[0] = be32(data, p + 16);
      dst[1] = 0;
      dst[2] = 0;
      dst[3] = 0;
      break;
    } else if (version === 6) {
      if (p + 40 > end) return 'truncated-header';
      ipSize = (data[p + 4] << 8) | data[p + 5];
      protocol = data[p + 6];
      l4 = p + 40;
      l4Length = ipSize;
      // Extension headers as nDPI's ndpi_handle_ipv6_extension_headers walks them:
      // hop-by-hop 0, routing 43, fragment 44, destination options 60, mobility 135;
      // "no next header" 59 is dropped. Each one is subtracted from the transport length.
      while (protocol === 0 || protocol === 43 || protocol === 44 || protocol === 60 || protocol === 135 || protocol === 59) {
        if (protocol === 59) return 'bad-ip-header';
        if (protocol === 44) {
          if (l4Length < 8) return 'bad-ip-header';
          if (l4 + 8 > end) return 'truncated-header';
          // a fragment that is not the first has no transport header: nfstream drops it
          if ((((data[l4 + 2] << 8) | data[l4 + 3]) >> 3) !== 0) return 'ip-fragment';
          protocol = data[l4];
          l4 += 8;
          l4Length -= 8;
        } else {
          if (l4 + 2 > end) return 'truncated-header';
          const extLength = data[l4 + 1] * 8 + 8;
          if (extLength > l4Length) return 'bad-ip-header';
          if (l4 + extLength > end) return 'truncated-header';
          protocol = data[l4];
          l4 += extLength;
          l4Length -= extLength;
        }
      }
      if (protocol === PROTO_IPIP || protocol === PROTO_IPV6) {
        p = l4;
        continue;
      }
      out.ipVersion = 6;
      const src = out.srcIp;
      const dst = out.dstIp;
      src[0] = be32(data, p + 8);
      src[1] = be32(data, p + 12);
      src[2] = be32(data, p + 16);
      src[3] = be32(data, p + 20);
      dst[0] = be32(data, p + 24);
      dst[1] = be32(data, p + 28);
      dst[2] = be32(data, p + 32);
      dst[3] = be32(data, p + 36);
      break;
    } else {
      return 'bad-ip-header';
    }
  }
  out.protocol = protocol;
  out.ipSize = ipSize;

  // Transport, by nfstream's rules: TCP needs 20 and UDP 8 transport bytes (by the IP
  // header's lengths) or the packet becomes an "unknown transport" (ports 0, sizes 0);
  // ICMP and ICMPv6 count any length with an 8-byte header; other protocols count 0.
  if (protocol === PROTO_TCP && l4Length >= 20) {
    if (l4 + 14 > end) return 'truncated-header';
    out.srcPort = (data[l4] << 8) | data[l4 + 1];
    out.dstPort = (data[l4 + 2] << 8) | data[l4 + 3];
    out.tcpFlags = data[l4 + 13];
    out.transportSize = l4Length;
    const payload = l4Length - (data[l4 + 12] >> 4) * 4;
    out.payloadSize = payload > 0 ? payload : 0;
  } else if (protocol === PROTO_UDP && l4Length >= 8) {
    if (l4 + 4 > end) return 'truncated-header';
    out.srcPort = (data[l4] << 8) | data[l4 + 1];
    out.dstPort = (data[l4 + 2] << 8) | data[l4 + 3];
    out.tcpFlags = 0;
    out.transportSize = l4Length;
    out.payloadSize = l4Length - 8;
  } else if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) {
    out.srcPort = 0;
    out.dstPort = 0;
    out.tcpFlags = 0;
    out.transportSize = l4Length;
    out.payloadSize = l4Length > 8 ? l4Length - 8 : 0;
  } else {
    out.srcPort = 0;
    out.dstPort = 0;
    out.tcpFlags = 0;
    out.transportSize = 0;
    out.payloadSize = 0;
  }
  return null;
}
