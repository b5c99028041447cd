/**
 * [S-3] Where the device's hub is and how it is reached:
 *
 *   HOST[:PORT]        TLS to PORT (default 4342), unless HOST is a loopback address
 *                      (127.0.0.0/8, ::1, localhost): then plaintext to PORT (default 4242)
 *   tls://HOST[:PORT]  TLS, always (default 4342)
 *   tcp://HOST[:PORT]  plaintext, always (default 4242); to a non-loopback host this is a
 *                      lenient setting, warned about at start [S-11]
 *
 * HOST is a name, an IPv4 literal or a bracketed IPv6 literal (`[fd00::1]:4342`).
 */
import net from 'node:net';

export const TEXT_PORT = 4242;
export const TEXT_TLS_PORT = 4342;

export interface HubAddress {
  readonly host: string;
  readonly port: number;
  /** `tls`: signaling in TLS, media in SRTP [S-3, S-4]; `tcp`: the seed's plaintext. */
  readonly transport: 'tls' | 'tcp';
  /** Whether `tls://` or `tcp://` chose the transport (else the host did). */
  readonly forced: boolean;
}

/** The error for a hub address that is none of the forms above. */
export const HUB_ADDRESS_FORMS = 'must be HOST[:PORT], tls://HOST[:PORT] or tcp://HOST[:PORT]';

const FORM = /^(?:(tls|tcp):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/;

/** The problem with `hub`, as the rest of a `path: message` line, or null when it is fine. */
export function hubAddressProblem(hub: string): string | null {
  const m = FORM.exec(hub);
  if (!m) return HUB_ADDRESS_FORMS;
  const host = unbracket(m[2]!);
  if (m[2]!.startsWith('[') && !net.isIPv6(host)) return `${host} is not an IPv6 address`;
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) return `port ${m[3]} is out of range 1-65535`;
  }
  return null;
}

/** Parses a hub address; throws `RangeError` with `hubAddressProblem`'s words when it is bad. */
export function parseHubAddress(hub: string): HubAddress {
  const problem = hubAddressProblem(hub);
  if (problem) throw new RangeError(`hub ${JSON.stringify(hub)}: ${problem}`);
  const [, scheme, rawHost, rawPort] = FORM.exec(hub)!;
  const host = unbracket(rawHost!);
  const transport =
    scheme === 'tls' || scheme === 'tcp' ? scheme : isLoopback(host) ? 'tcp' : 'tls';
  const port =
    rawPort !== undefined ? Number(rawPort) : transport === 'tls' ? TEXT_TLS_PORT : TEXT_PORT;
  return { host, port, transport, forced: scheme !== undefined };
}

/** 127.0.0.0/8, ::1 (also as `::ffff:127.x.y.z`) and `localhost`: this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) {
    if (h.startsWith('::ffff:') && net.isIPv4(h.slice(7))) return h.slice(7).startsWith('127.');
    return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h);
  }
  return false;
}

/** `[::1]` -> `::1`; anything else as it is. */
function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** `mqtt.url: auto`: the hub's embedded broker, on the hub's host, port 1883 [S-9]. */
export function brokerUrlFor(hub: string): string {
  const { host } = parseHubAddress(hub);
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:1883`;
}
