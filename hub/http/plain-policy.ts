/**
 * Who gets the web page in plain HTTP (docs/web.md), and where everyone else is sent. The
 * page's port speaks both HTTPS and HTTP (hub/http/one-port.ts); `plaintext` decides,
 * as it does for the dialects' plaintext ports [S-1: "The plaintext listeners ... bind to
 * loopback by default (`plaintext: loopback|all|off`; `all` logs a warning at every
 * start)"]:
 *
 * | `plaintext` | plain HTTP served to | everyone else |
 * |---|---|---|
 * | `loopback` (default) | a connection between 127.0.0.1 and 127.0.0.1 (or ::1 and ::1) | 308 to `https://` |
 * | `all` | everyone (warned at start) | - |
 * | `off` | nobody | 308 to `https://` |
 *
 * "Loopback" is strict on both ends: the hub's own address on the connection must be
 * 127.0.0.1 (as the dialects' plaintext listeners, bound there, accept it) AND so must the
 * client's. A client with another 127.x source, or a connection to the hub's address on
 * another 127.x, stands in for a host on the network in tests (tls-listeners.test.ts
 * uses `--host 127.0.0.2` as "the LAN" likewise); on a real machine only the machine
 * itself can use either.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import { plainIp } from '../../shared/address.ts';
import { type Interfaces, lanAddresses } from '../net/lan-addresses.ts';

export type PlaintextPolicy = 'loopback' | 'all' | 'off';

/** The loopback addresses a plain connection may run between (both ends the same one). */
const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** Whether a plain HTTP connection between `local` (the hub's end) and `remote` is served. */
export function plainServed(
  policy: PlaintextPolicy,
  local: string | undefined,
  remote: string | undefined,
): boolean {
  if (policy === 'all') return true;
  if (policy === 'off') return false;
  const l = plainIp(local);
  return LOOPBACK.has(l) && plainIp(remote) === l;
}

/**
 * Where a plain request that is not served goes: the same host and port in `https`, with
 * the same path and query. The host comes from the request's `Host` when it is a plain
 * host name or address (the name the browser used, so its certificate warning names it),
 * otherwise the hub's own address on the connection.
 */
export function httpsLocation(
  hostHeader: string | undefined,
  localAddress: string | undefined,
  localPort: number,
  path: string,
): string {
  let host = `${bracket(plainIp(localAddress))}:${localPort}`;
  if (hostHeader && /^[A-Za-z0-9.:[\]-]{1,260}$/.test(hostHeader)) {
    try {
      const u = new URL(`http://${hostHeader}`);
      host = `${u.hostname}:${u.port || localPort}`;
    } catch {
      // not a host: the connection's own address stands
    }
  }
  const p = path.startsWith('/') ? path : '/';
  return `https://${host}${p}`;
}

function bracket(ip: string): string {
  return isIP(ip) === 6 ? `[${ip}]` : ip;
}

export interface PageUrls {
  /** Where to open the page on the hub's machine. */
  readonly url: string;
  /** Where to open it from another machine: always HTTPS. */
  readonly lan_url: string;
}

/**
 * The page's addresses for the startup log and `babel-hub status`. On the hub's machine:
 * `http://localhost:PORT/` when plain HTTP is served to it there (a wildcard or loopback
 * `host`, `plaintext` not `off`), otherwise HTTPS. From elsewhere: `https://` on `host`,
 * or for a wildcard `host` the first network address of the machine (IPv4 first; not a
 * container's or VPN's bridge), or its host name when it has none.
 */
export function pageUrls(
  host: string,
  port: number,
  policy: PlaintextPolicy,
  interfaces: Interfaces = os.networkInterfaces(),
  hostname: string = os.hostname(),
): PageUrls {
  const wildcard = host === '0.0.0.0' || host === '::';
  const local = wildcard || LOOPBACK.has(host) || host === 'localhost';
  const shown = wildcard ? 'localhost' : bracket(host);
  const plain = policy === 'all' || (policy === 'loopback' && local);
  const url = `${plain ? 'http' : 'https'}://${shown}:${port}/`;
  const lan = wildcard ? (firstAddress(interfaces) ?? hostname) : bracket(host);
  return { url, lan_url: `https://${lan}:${port}/` };
}

function firstAddress(interfaces: Interfaces): string | null {
  const first = lanAddresses(interfaces)[0];
  if (first === undefined) return null;
  return isIP(first) === 6 ? `[${first}]` : first;
}

/**
 * [S-2] `urls` with a `lan_url` the certificate names, so that a browser from the network
 * warns only that the certificate is self-signed, not that it is for another name. The
 * address `pageUrls` chose stands when `names` says the certificate has it; otherwise
 * `<hostname>.local` or `<hostname>`, the first it has (a certificate made before the hub
 * put the machine's addresses in it names those). `uncovered`: the address the certificate
 * does not name, for a warning, or null.
 */
export function coveredPageUrls(
  urls: PageUrls,
  names: (host: string) => boolean,
  hostname: string = os.hostname(),
): { urls: PageUrls; uncovered: string | null } {
  const lan = new URL(urls.lan_url);
  const host = lan.hostname.replace(/^\[(.*)\]$/, '$1');
  if (names(host)) return { urls, uncovered: null };
  const named = [`${hostname}.local`, hostname].find(names);
  if (named) lan.hostname = named;
  return { urls: { ...urls, lan_url: lan.href }, uncovered: host };
}
