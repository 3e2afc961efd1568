/**
 * One flow record, whatever produced it: the flow meter on packets (capture/flow-meter.ts)
 * or a Zeek conn.log (capture/zeek.ts). Every field nfstream 6.6 defines keeps
 * nfstream's name and unit (milliseconds, bytes, packets); the fields after them are
 * ours: a Zeek-style connection state, the service guessed from the port, and the
 * NSL-KDD-style window features (capture/windows.ts).
 *
 * A flow record leaves the capture folder as a line (CSV with {@link FLOW_FIELDS} as its
 * header, or NDJSON), so that a model bundle picks its features by name and the one
 * scoring pipeline parses it like any other record line.
 */

/** nfstream's identity fields, in nfstream's order */
export const NFSTREAM_ID_FIELDS = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'ip_version', 'vlan_id'] as const;

const DIRECTIONS = ['bidirectional', 'src2dst', 'dst2src'] as const;
const FLAGS = ['syn', 'cwr', 'ece', 'urg', 'ack', 'psh', 'rst', 'fin'] as const;

/** nfstream's numeric flow fields (statistical_analysis=True, no dissection), in nfstream's order */
export const NFSTREAM_NUMERIC_FIELDS: readonly string[] = [
  'expiration_id',
  ...DIRECTIONS.flatMap((d) => [`${d}_first_seen_ms`, `${d}_last_seen_ms`, `${d}_duration_ms`, `${d}_packets`, `${d}_bytes`]),
  ...DIRECTIONS.flatMap((d) => [`${d}_min_ps`, `${d}_mean_ps`, `${d}_stddev_ps`, `${d}_max_ps`]),
  ...DIRECTIONS.flatMap((d) => [`${d}_min_piat_ms`, `${d}_mean_piat_ms`, `${d}_stddev_piat_ms`, `${d}_max_piat_ms`]),
  ...DIRECTIONS.flatMap((d) => FLAGS.map((f) => `${d}_${f}_packets`)),
];

/**
 * The window features (NSL-KDD's "traffic" features, computed over the flows that came
 * before: see capture/windows.ts for their definitions).
 */
export const WINDOW_FIELDS = [
  'count',
  'srv_count',
  'serror_rate',
  'srv_serror_rate',
  'rerror_rate',
  'srv_rerror_rate',
  'same_srv_rate',
  'diff_srv_rate',
  'srv_diff_host_rate',
  'dst_host_count',
  'dst_host_srv_count',
  'dst_host_same_srv_rate',
  'dst_host_diff_srv_rate',
  'dst_host_same_src_port_rate',
  'dst_host_srv_diff_host_rate',
  'dst_host_serror_rate',
  'dst_host_srv_serror_rate',
  'dst_host_rerror_rate',
  'dst_host_srv_rerror_rate',
  'src_dst_port_count',
  'src_count',
  'src_serror_rate',
  'src_rerror_rate',
  'src_host_count',
  'src_host_serror_rate',
  'src_host_rerror_rate',
] as const;

/** our own text fields: Zeek's connection state (S0, SF, REJ, ...) and the service by port ("http", "dns", "other") */
export const OWN_TEXT_FIELDS = ['conn_state', 'service'] as const;

/**
 * our own numeric field: `tcp_established` is 1 for a TCP flow whose three-way
 * handshake completed (SYN, SYN-ACK, then the originator's ACK), 0 otherwise (and for
 * other transports). A flood's SYN, SYN-ACK, RST flows and a SYN scan's half-open
 * probes have 0, whatever their final state's name.
 */
export const OWN_NUMERIC_FIELDS = ['tcp_established'] as const;

/** every field of a flow line, in the order of the CSV header */
export const FLOW_FIELDS: readonly string[] = [
  ...NFSTREAM_ID_FIELDS,
  ...NFSTREAM_NUMERIC_FIELDS,
  ...OWN_TEXT_FIELDS,
  ...OWN_NUMERIC_FIELDS,
  ...WINDOW_FIELDS,
];

/** text-valued fields (everything else is a number) */
export const FLOW_TEXT_FIELDS: ReadonlySet<string> = new Set(['src_ip', 'dst_ip', 'conn_state', 'service']);

/**
 * A flow record: text fields as strings, every other field a number. A source that
 * does not know a field (Zeek has no packet-size statistics) leaves it NaN, written as
 * an empty CSV cell / JSON null.
 */
export type FlowRecord = Record<string, number | string>;
