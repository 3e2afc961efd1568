/**
 * The service a flow is for, guessed from its transport and responder port, for flows
 * that carry no better label: the flow meter's flows and the Zeek conn.log records
 * whose `service` is unset (capture/zeek.ts). A port says what a server usually runs,
 * not what was spoken: traffic on 80 that is not HTTP is still "http" here.
 */

/** IP protocol numbers the table knows */
const TCP = 6;
const UDP = 17;

/** well-known TCP ports (IANA assignments and common practice) */
const TCP_SERVICES: ReadonlyMap<number, string> = new Map([
  [20, 'ftp_data'],
  [21, 'ftp'],
  [22, 'ssh'],
  [23, 'telnet'],
  [25, 'smtp'],
  [53, 'dns'],
  [80, 'http'],
  [88, 'kerberos'],
  [110, 'pop3'],
  [111, 'sunrpc'],
  [135, 'msrpc'],
  [139, 'netbios_ssn'],
  [143, 'imap'],
  [179, 'bgp'],
  [389, 'ldap'],
  [443, 'https'],
  [445, 'smb'],
  [465, 'smtps'],
  [587, 'smtp'],
  [636, 'ldaps'],
  [993, 'imaps'],
  [995, 'pop3s'],
  [1433, 'mssql'],
  [1883, 'mqtt'],
  [3306, 'mysql'],
  [3389, 'rdp'],
  [5432, 'postgresql'],
  [5900, 'vnc'],
  [6379, 'redis'],
  [8080, 'http'],
  [8443, 'https'],
  [9200, 'elasticsearch'],
  [27017, 'mongodb'],
]);

/** well-known UDP ports */
const UDP_SERVICES: ReadonlyMap<number, string> = new Map([
  [53, 'dns'],
  [67, 'dhcp'],
  [68, 'dhcp'],
  [69, 'tftp'],
  [88, 'kerberos'],
  [123, 'ntp'],
  [137, 'netbios_ns'],
  [138, 'netbios_dgm'],
  [161, 'snmp'],
  [162, 'snmp'],
  [443, 'quic'],
  [500, 'isakmp'],
  [514, 'syslog'],
  [1900, 'ssdp'],
  [4500, 'isakmp'],
  [5353, 'mdns'],
  [5355, 'llmnr'],
]);

/**
 * The service usually found on a port: "http" for TCP 80 and 8080, "https" for TCP 443,
 * "dns" for 53 (TCP or UDP), "ssh" 22, "ftp" 21, "smtp" 25, "redis" 6379, "ntp" UDP 123,
 * and so on; "other" for any other port or transport (ICMP has no ports).
 *
 * @param protocol - IP protocol number (6 TCP, 17 UDP; anything else gives "other")
 * @param port - the responder's (destination) port
 * @returns a lower-case service name, or "other"
 */
export function serviceByPort(protocol: number, port: number): string {
  const table = protocol === TCP ? TCP_SERVICES : protocol === UDP ? UDP_SERVICES : undefined;
  return table?.get(port) ?? 'other';
}
