import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Dialer } from './in-process-hub.ts';

/** A TLS port of a real hub [S-1]; `host` defaults to 127.0.0.1. */
export interface TlsPort {
  readonly tlsPort: number;
  readonly host?: string;
  /** The hub's certificate (PEM) to trust; without it any certificate is accepted. */
  readonly ca?: Buffer | string;
}

/**
 * Where a test client connects: a TCP port on loopback, a TLS port, or a dialect of an
 * in-process hub. `localAddress` picks the client's own IP (the TCP source, or the peer an
 * in-process hub is told about).
 */
export type Target = number | TlsPort | Dialer;

/** True when a client of `target` talks TLS, so its call legs get SRTP keys [S-4]. */
export function isSecure(target: Target): boolean {
  if (typeof target === 'number') return false;
  return 'tlsPort' in target || target.secure;
}

/** A connected byte stream to `target` (for TLS: once the handshake is done). */
export async function dial(target: Target, localAddress?: string): Promise<Duplex> {
  if (typeof target === 'object' && 'tlsPort' in target) {
    const socket = tls.connect({
      port: target.tlsPort,
      host: target.host ?? '127.0.0.1',
      ...(target.ca === undefined
        ? { rejectUnauthorized: false }
        : { ca: target.ca, checkServerIdentity: () => undefined }),
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    await once(socket, 'secureConnect');
    return socket;
  }
  if (typeof target !== 'number') {
    return target.connect(localAddress === undefined ? {} : { address: localAddress });
  }
  const socket = net.connect({
    port: target,
    host: '127.0.0.1',
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  await once(socket, 'connect');
  return socket;
}
