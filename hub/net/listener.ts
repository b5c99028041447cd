import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { plainIp } from '../../shared/address.ts';
import type { Clock, Timer } from '../../shared/clock.ts';
import type { Handle, PeerAddress } from './address.ts';
import { secureHandle } from './tls.ts';

/** How long `close()` waits for connections to finish before destroying them. */
const CLOSE_GRACE_MS = 1000;

/** Keep-alive probes find a peer whose host vanished without a FIN. */
const KEEPALIVE_MS = 30_000;

/** The peer of an accepted TCP socket, as the adapters see it (`secure` set by TLS). */
export function peerOf(socket: net.Socket): PeerAddress {
  return {
    address: plainIp(socket.remoteAddress),
    port: socket.remotePort ?? 0,
    localAddress: plainIp(socket.localAddress),
    secure: false,
  };
}

/**
 * How many connections the hub holds at once, counted across every listener that shares
 * it (`max_connections` is "both dialects together"). Past `max`, a new connection is
 * closed at accept.
 */
export class ConnectionCap {
  readonly max: number;
  #open = 0;
  #refused = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a place; false when none is left. */
  take(): boolean {
    if (this.#open >= this.max) {
      this.#refused++;
      return false;
    }
    this.#open++;
    return true;
  }

  release(): void {
    this.#open--;
  }

  get open(): number {
    return this.#open;
  }

  get refused(): number {
    return this.#refused;
  }
}

/**
 * A TCP listener, plain or TLS [S-1]: the one place that knows `net.Server` and
 * `net.Socket`. It hands each accepted socket (inside TLS when given `tls`, a secure
 * context) to a dialect's `handle(stream, peer)`, tracks the connections so that
 * `close()` can end them all, and caps how many the hub holds at once (`cap`, shared by
 * the listeners, TLS ones included).
 */
export class Listener {
  readonly #server: net.Server;
  /** Each accepted socket, and the stream the dialect serves on it (the TLS socket over it). */
  readonly #sockets = new Map<net.Socket, Duplex>();
  readonly #log: Logger;
  readonly #clock: Clock;

  /**
   * Sockets are half-open: a peer's FIN does not end the hub's side; the connection's
   * `RequestPump` ends it once it has answered what the peer sent.
   */
  constructor(
    handle: Handle,
    opts: { log: Logger; clock: Clock; cap: ConnectionCap; tls?: tls.SecureContext },
  ) {
    this.#log = opts.log;
    this.#clock = opts.clock;
    const cap = opts.cap;
    let served: Duplex | null = null;
    const track: Handle = (stream, peer) => {
      served = stream;
      handle(stream, peer);
    };
    const serve = opts.tls ? secureHandle(track, opts.tls, opts.log) : track;
    const options = { noDelay: true, allowHalfOpen: true };
    this.#server = net.createServer(options, (socket) => {
      if (!cap.take()) {
        this.#log.debug({ max: cap.max }, 'too many connections; closed at accept');
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
      socket.once('close', () => {
        this.#sockets.delete(socket);
        cap.release();
      });
      socket.setKeepAlive(true, KEEPALIVE_MS);
      served = null;
      serve(socket, peerOf(socket));
      this.#sockets.set(socket, served ?? socket);
    });
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
    for (const s of this.#sockets.values()) s.end();
    const linger: Timer = this.#clock.setTimeout(() => {
      for (const [raw, served] of this.#sockets) {
        served.destroy();
        raw.destroy();
      }
    }, graceMs);
    await closed;
    linger.cancel();
  }
}
