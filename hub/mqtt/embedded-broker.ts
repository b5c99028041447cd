/**
 * The broker inside the hub (`--mqtt embedded`, the default): aedes on a TCP listener, so a
 * fresh install has MQTT with nothing else to set up. Retained messages live in memory and
 * are lost when the hub stops; the bridge re-publishes them on every connect.
 *
 * A port that cannot be bound (another broker already on 1883) makes `start()` reject with
 * `BrokerListenError`; the hub logs it and runs on without MQTT (docs/mqtt.md), because
 * calls never depend on MQTT.
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import aedes from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  /** Bind address; `0.0.0.0` for every interface. */
  readonly host: string;
  /** TCP port; 0 lets the system pick one (see `port` after `start()`). */
  readonly port: number;
  readonly log: Logger;
  /** When set, clients must log in with these; otherwise anonymous clients are welcome. */
  readonly auth?: { readonly username: string; readonly password: string } | undefined;
}

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

/** aedes refuses client ids over 23 characters unless told otherwise; HA's are 22, others longer. */
const MAX_CLIENT_ID = 128;

/** aedes is CommonJS: its default import is `module.exports`, which carries `createBroker`. */
type Aedes = ReturnType<typeof aedes.createBroker>;

export class EmbeddedBroker {
  readonly #opts: EmbeddedBrokerOptions;
  readonly #sockets = new Set<net.Socket>();
  #aedes: Aedes | null = null;
  #server: net.Server | null = null;
  #port = 0;

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
  }

  /** The bound port, once started. */
  get port(): number {
    return this.#port;
  }

  /** Where a client on this machine reaches the broker: loopback for a wildcard bind. */
  get url(): string {
    const h = this.#opts.host;
    const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
    return `mqtt://${host}:${this.#port}`;
  }

  /** Listens; resolves with the bound port. Rejects with `BrokerListenError`, leaving nothing open. */
  async start(): Promise<number> {
    const { host, port, log, auth } = this.#opts;
    const broker = aedes.createBroker({ maxClientsIdLength: MAX_CLIENT_ID });
    if (auth) {
      broker.authenticate = (_client, username, password, done) => {
        const ok =
          username === auth.username && password !== undefined && same(password, auth.password);
        if (ok) return done(null, true);
        done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false);
      };
    }
    broker.on('clientError', (client, err) => {
      log.debug({ err, client: client.id }, 'mqtt client error');
    });
    const server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      broker.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw new BrokerListenError(host, port, err as NodeJS.ErrnoException);
    }
    server.on('error', (err) => log.error({ err }, 'embedded mqtt broker error'));
    this.#aedes = broker;
    this.#server = server;
    this.#port = (server.address() as net.AddressInfo).port;
    log.info({ host, port: this.#port, auth: Boolean(auth) }, 'embedded mqtt broker listening');
    return this.#port;
  }

  /** Disconnects every client and closes the listener. Idempotent. */
  async stop(): Promise<void> {
    const broker = this.#aedes;
    const server = this.#server;
    this.#aedes = null;
    this.#server = null;
    if (!broker || !server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    this.#opts.log.info('embedded mqtt broker stopped');
  }
}

function same(given: Buffer, expected: string): boolean {
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
