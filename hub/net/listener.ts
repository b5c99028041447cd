import net from 'node:net';
import type { Logger } from 'pino';
import { plainIp } from '../../shared/address.ts';
import type { Clock, Timer } from '../../shared/clock.ts';
import type { Handle, PeerAddress } from './address.ts';

/** How long `close()` waits for connections to finish before destroying them. */
const CLOSE_GRACE_MS = 1000;

/** Keep-alive probes find a peer whose host vanished without a FIN. */
const KEEPALIVE_MS = 30_000;

/** The peer of an accepted socket (TCP, or TLS over it), as the adapters see it. */
export function peerOf(socket: net.Socket): PeerAddress {
  return {
    address: plainIp(socket.remoteAddress),
    port: socket.remotePort ?? 0,
    localAddress: plainIp(socket.localAddress),
  };
}

/**
 * A TCP listener: the one place that knows `net.Server` and `net.Socket`. It hands each
 * accepted socket to a dialect's `handle(stream, peer)`, tracks the connections so that
 * `close()` can end them all, and caps how many it holds at once.
 */
export class Listener {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #log: Logger;
  readonly #clock: Clock;

  /**
   * Sockets are half-open: a peer's FIN does not end the hub's side; the connection's
   * `RequestPump` ends it once it has answered what the peer sent.
   */
  constructor(handle: Handle, opts: { log: Logger; clock: Clock; maxConnections: number }) {
    this.#log = opts.log;
    this.#clock = opts.clock;
    const options = { noDelay: true, allowHalfOpen: true };
    this.#server = net.createServer(options, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.setKeepAlive(true, KEEPALIVE_MS);
      handle(socket, peerOf(socket));
    });
    this.#server.maxConnections = opts.maxConnections;
    this.#server.on('error', (err) => this.#log.error({ err }, 'listener error'));
  }

  /** Binds; rejects if the port is taken. Port 0 picks a free port. */
  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Stops accepting, ends every connection (what was already written is still delivered,
   * then FIN) and waits until all are closed, destroying any that linger past `graceMs`
   * (a peer that never reads never answers the FIN).
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.end();
    const linger: Timer = this.#clock.setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    await closed;
    linger.cancel();
  }
}
