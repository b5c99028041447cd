/**
 * The embedded broker's TCP listeners (hub/mqtt/embedded-broker.ts): the plaintext one
 * (where `plain-host.ts` puts it) and the TLS one [S-9, extension] with the hub's identity
 * [S-2]. Each hands every connection to the same `handle` (aedes), once TLS is through
 * for the TLS one; `track` sees every raw socket so that `stop()` can close them all.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { plainIp } from '../../shared/address.ts';
import type { TlsIdentity } from '../net/tls.ts';

/** The embedded broker could not listen (port taken, address not local). */
export class BrokerListenError extends Error {
  readonly code: string | undefined;

  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super(
      cause.code === 'EADDRINUSE'
        ? `port ${port} on ${host} is in use; if a broker already runs there, use --mqtt mqtt://127.0.0.1:${port}, or --mqtt off`
        : `cannot listen on ${host}:${port}: ${cause.message}`,
      { cause },
    );
    this.name = 'BrokerListenError';
    this.code = cause.code;
  }
}

export interface ListenerParts {
  /** Every accepted socket, before anything else happens to it. */
  readonly track: (socket: Duplex) => void;
  /** Where a connection goes: aedes's `handle`. */
  readonly handle: (stream: Duplex) => void;
  readonly log: Logger;
}

/** The plaintext listener on `host:port`; rejects with the bind error, leaving nothing open. */
export async function listenPlain(
  port: number,
  host: string,
  parts: ListenerParts,
): Promise<net.Server> {
  const server = net.createServer((socket) => {
    parts.track(socket);
    parts.handle(socket);
  });
  await listen(server, port, host);
  server.on('error', (err) => parts.log.error({ err }, 'embedded mqtt broker error'));
  return server;
}

/**
 * [S-9, extension] The TLS listener: each handshake that completes hands its socket to
 * `handle`. A failed handshake (a plaintext client, a scanner) is logged at debug and
 * costs nothing more. Rejects with the bind error, leaving nothing open.
 */
export async function listenTls(
  port: number,
  host: string,
  identity: TlsIdentity,
  parts: ListenerParts,
): Promise<tls.Server> {
  const { cert, key } = identity;
  const server = tls.createServer({ cert, key, minVersion: 'TLSv1.2' }); // [S-1]
  server.on('connection', (raw: net.Socket) => parts.track(raw));
  server.on('tlsClientError', (err, socket) => {
    parts.log.debug({ err: err.message, address: plainIp(socket.remoteAddress) }, 'mqtt tls error');
  });
  server.on('secureConnection', (socket) => parts.handle(socket));
  await listen(server, port, host);
  server.on('error', (err) => parts.log.error({ err }, 'embedded mqtt broker tls error'));
  return server;
}

/** Resolves once `server` listens on `host:port`; rejects with the bind error. */
function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A bind address as a client on this machine dials it: loopback for a wildcard. */
export function localHost(h: string): string {
  if (h === '0.0.0.0' || h === '::') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}
