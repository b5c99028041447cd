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

  constructor(
    onConnection: (socket: net.Socket) => void,
    opts: { log: Logger; maxConnections: number },
  ) {
    this.#log = opts.log;
    this.#server = net.createServer({ noDelay: true }, (socket) => {
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

  /** Stops accepting and waits until every connection is closed (forcing any that linger). */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const linger = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, graceMs);
    linger.unref();
    await closed;
    clearTimeout(linger);
  }
}
