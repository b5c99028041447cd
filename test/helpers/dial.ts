import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dialer } from './in-process-hub.ts';

/**
 * Where a test client connects: a TCP port on loopback, or a dialect of an in-process hub.
 * `localAddress` picks the client's own IP (the TCP source, or the peer an in-process hub
 * is told about).
 */
export type Target = number | Dialer;

/** A connected byte stream to `target`. */
export async function dial(target: Target, localAddress?: string): Promise<Duplex> {
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
