/**
 * An IPv4 address seen through a dual-stack socket is `::ffff:a.b.c.d`; the wire, the
 * logs and every comparison want `a.b.c.d`. An absent address (a closed socket) is
 * `0.0.0.0`.
 */
export function plainIp(address: string | undefined): string {
  if (!address) return '0.0.0.0';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
