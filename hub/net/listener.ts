import net from 'node:net';
import type { Logger } from 'pino';

/**
 * A TCP listener that tracks its connections so that `close()` can end them all, and caps
 * how many it holds at once.
 */
export class Listener {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #log: Logger;

  /**
   * Sockets are half-open: a peer's FIN does not end the hub's side; the connection's
   * `RequestPump` ends it once it has answered what the peer sent.
   */
  constructor(
    onConnection: (socket: net.Socket) => void,
    opts: { log: Logger; maxConnections: number },
  ) {
    this.#log = opts.log;
    const options = { noDelay: true, allowHalfOpen: true };
    this.#server = net.createServer(options, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      onConnection(socket);
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
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.end();
    const linger = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    linger.unref();
    await closed;
    clearTimeout(linger);
  }
}
