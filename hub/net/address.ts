/** An IPv4 peer seen through a dual-stack socket is `::ffff:a.b.c.d`; the wire wants `a.b.c.d`. */
export function plainIp(address: string | undefined): string {
  if (!address) return '0.0.0.0';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
