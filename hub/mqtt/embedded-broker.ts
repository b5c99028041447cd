/**
 * The broker inside the hub (`--mqtt embedded`, the default): aedes on a TCP listener, so a
 * fresh install has MQTT with nothing else to set up. Retained messages live in memory and
 * are lost when the hub stops; the bridge re-publishes them on every connect.
 *
 * [S-9] Nobody gets in anonymously: the hub's own login, `admin` (Home Assistant) and
 * devices by their Babel name and secret (`broker-login.ts`, throttled [S-7]); what each
 * may publish and read is `acl.ts`, fixed at login. A refused subscription gets the SUBACK
 * failure code 0x80; a refused publish is acknowledged and dropped, so a client that
 * tries is not told what exists and its connection carries on. `anonymous` restores the
 * old behaviour (anyone, anything) and says so at warn on every start [S-11].
 *
 * [S-9, extension] The same broker also listens in TLS (`mqtt.embedded_tls_port`, 8883)
 * with the hub's identity [S-2], so a device's secret, its commands and its statistics do
 * not cross the LAN in clear. Both listeners feed the one aedes: same logins, same ACL,
 * same throttle. [S-9, extension; S-1] The plaintext port (1883) listens where the hub's
 * `plaintext` policy puts it (`plain-host.ts`: loopback by default, none with `off`), so
 * the `admin` login, which opens doors, does not cross the LAN in clear either. The hub's
 * own clients are linked in process (`connectLocal`) and need neither port.
 *
 * A port that cannot be bound (another broker already on 1883) makes `start()` reject with
 * `BrokerListenError`; the hub logs it and runs on without MQTT (docs/mqtt.md), because
 * calls never depend on MQTT. A TLS port that cannot be bound is logged at error and the
 * broker serves the plaintext port alone (`tlsPort` is then null); without a plaintext
 * port that is a `BrokerListenError` too, since nothing could reach the broker.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import aedes from 'aedes';
import { type IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { plainIp } from '../../shared/address.ts';
import { type Clock, realClock } from '../../shared/clock.ts';
import type { TlsIdentity } from '../net/tls.ts';
import { LoginThrottle } from '../security/login-throttle.ts';
import { canPublish, canSubscribe, type MqttIdentity } from './acl.ts';
import {
  BrokerListenError,
  type ListenerParts,
  listenPlain,
  listenTls,
  localHost,
} from './broker-listeners.ts';
import { checkLogin, type VerifyDevice } from './broker-login.ts';
import { localLink } from './local-link.ts';
import type { MqttLogin } from './logins.ts';
import { isLoopbackAddress } from './plain-host.ts';

/** Who may connect, and the topics their rights are counted under. */
export type BrokerAccess =
  | {
      readonly mode: 'login';
      /** `mqtt.base_topic`: the ACL's `<base>`. */
      readonly baseTopic: string;
      readonly hub: MqttLogin;
      readonly admin: MqttLogin;
      readonly verifyDevice: VerifyDevice;
      /**
       * [S-7] The hub's throttle, shared with the dialects. Absent: the broker keeps its
       * own on `clock`; null: no throttling (`login_throttle: off`).
       */
      readonly throttle?: LoginThrottle | null | undefined;
      readonly clock?: Clock | undefined;
    }
  /** [S-11] Unsafe: anyone on the network may connect and publish anything. */
  | { readonly mode: 'anonymous' };

export interface EmbeddedBrokerOptions {
  /** Bind address of the TLS listener (and of the plaintext one by default); `0.0.0.0` for every interface. */
  readonly host: string;
  /** Plaintext TCP port; 0 lets the system pick one (see `port` after `start()`). */
  readonly port: number;
  /**
   * [S-9, extension; S-1] Where the plaintext port listens (`mqttPlaintextHost`): absent,
   * on `host`; null, nowhere (`plaintext: off`).
   */
  readonly plaintextHost?: string | null;
  readonly log: Logger;
  readonly access: BrokerAccess;
  /** [S-9, extension] The TLS listener on `host`; absent: plaintext only. */
  readonly tls?: {
    /** TCP port; 0 lets the system pick one (see `tlsPort` after `start()`). */
    readonly port: number;
    /** The hub's identity [S-2], PEM: the certificate the dialects' TLS ports serve. */
    readonly identity: TlsIdentity;
  };
}

export { BrokerListenError } from './broker-listeners.ts';

/** aedes refuses client ids over 23 characters unless told otherwise; HA's are 22, others longer. */
const MAX_CLIENT_ID = 128;

/**
 * Where a refused publish goes instead: no retained copy, no payload, and never delivered
 * (`authorizeForward`). aedes has no "drop" answer short of closing the connection.
 */
const REFUSED_TOPIC = '$babel/refused';

/** Refused publishes logged per client: once per topic, up to this many topics. */
const LOGGED_REFUSALS = 32;

/** CONNACK 2: another login's client id [MQTT-3.1.4-2 would hand its session over]. */
const IDENTIFIER_REJECTED = 2;

/** aedes is CommonJS: its default import is `module.exports`, which carries `createBroker`. */
type Aedes = ReturnType<typeof aedes.createBroker>;
type Client = Parameters<Aedes['authenticate']>[0];

export class EmbeddedBroker {
  readonly #opts: EmbeddedBrokerOptions;
  /** Every connection, sockets and in-process links alike, destroyed at `stop()`. */
  readonly #sockets = new Set<Duplex>();
  /** The identity each connected client logged in with. */
  readonly #who = new WeakMap<Client, MqttIdentity>();
  /** Client ids in use, with their login: one login cannot take over another's session. */
  readonly #ids = new Map<string, { client: Client; identity: MqttIdentity }>();
  readonly #refusals = new WeakMap<Client, Set<string>>();
  #aedes: Aedes | null = null;
  #server: net.Server | null = null;
  #tlsServer: tls.Server | null = null;
  #port = 0;
  #tlsPort: number | null = null;

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
  }

  /** The bound plaintext port, once started; 0 without a plaintext listener. */
  get port(): number {
    return this.#port;
  }

  /** The bound TLS port, once started; null without TLS or when it could not be bound. */
  get tlsPort(): number | null {
    return this.#tlsPort;
  }

  /** Where the plaintext port listens (see `plaintextHost`); null: nowhere. */
  get plaintextHost(): string | null {
    const h = this.#opts.plaintextHost;
    return h === undefined ? this.#opts.host : h;
  }

  /**
   * Where a client on this machine reaches the broker: the plaintext port (loopback for a
   * wildcard bind), or without one the TLS port. The hub's own clients use `connectLocal`.
   */
  get url(): string {
    const plain = this.plaintextHost;
    if (plain !== null && this.#server) return `mqtt://${localHost(plain)}:${this.#port}`;
    return `mqtts://${localHost(this.#opts.host)}:${this.#tlsPort ?? 0}`;
  }

  /**
   * An MQTT.js client linked to this broker in process (`local-link.ts`), the shape of
   * `mqtt.connect` (the bridge's and the device feed's `connectFn`); `url` is for their
   * logs only. Every (re)connect gets a fresh link; while the broker is stopped the link
   * closes at once and the client retries as after any lost connection. Logins, ACL and
   * throttle apply as to any client [S-9].
   */
  readonly connectLocal = (_url: string, opts: IClientOptions): MqttClient =>
    new MqttClient(() => this.#link(), { ...opts, protocol: 'mqtt' });

  #link(): Duplex {
    const [client, end] = localLink();
    const broker = this.#aedes;
    if (!broker) {
      setImmediate(() => client.destroy(new Error('embedded mqtt broker not running')));
      return client;
    }
    this.#sockets.add(end);
    end.once('close', () => this.#sockets.delete(end));
    broker.handle(end);
    return client;
  }

  /** Listens; resolves with the plaintext port (0 without one). Rejects with `BrokerListenError`, leaving nothing open. */
  async start(): Promise<number> {
    const { host, port, log, access } = this.#opts;
    const plainHost = this.plaintextHost;
    const broker = aedes.createBroker({ maxClientsIdLength: MAX_CLIENT_ID });
    if (access.mode === 'login') this.#guard(broker, access);
    else {
      log.warn(
        'mqtt.anonymous is on: anyone who reaches the embedded broker may command every device, open doors included [S-11]',
      );
    }
    broker.on('clientError', (client, err) => {
      log.debug({ err, client: client.id }, 'mqtt client error');
    });
    const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve()));
    const parts: ListenerParts = {
      track: (socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      },
      handle: (stream) => broker.handle(stream),
      log,
    };
    if (plainHost !== null) {
      try {
        this.#server = await listenPlain(port, plainHost, parts);
      } catch (err) {
        await closeBroker();
        throw new BrokerListenError(plainHost, port, err as NodeJS.ErrnoException);
      }
      this.#port = (this.#server.address() as net.AddressInfo).port;
    }
    this.#aedes = broker;
    const tlsOpts = this.#opts.tls;
    if (tlsOpts) {
      try {
        this.#tlsServer = await listenTls(tlsOpts.port, host, tlsOpts.identity, parts);
        this.#tlsPort = (this.#tlsServer.address() as net.AddressInfo).port;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (plainHost === null) {
          // [S-1] plaintext off and no TLS: nothing could reach the broker
          await this.stop();
          throw new BrokerListenError(host, tlsOpts.port, err);
        }
        log.error(
          { err, host, port: tlsOpts.port },
          `embedded mqtt broker: cannot listen in TLS on ${host}:${tlsOpts.port} (${err.code ?? 'error'}); serving plaintext only, set mqtt.embedded_tls_port to a free port`,
        );
      }
    }
    log.info(
      {
        plaintext: plainHost === null ? 'off' : plainHost,
        port: this.#port,
        host,
        tlsPort: this.#tlsPort,
        anonymous: access.mode === 'anonymous',
      },
      plainHost === null
        ? `embedded mqtt broker listening: TLS on ${host}:${this.#tlsPort ?? 'none'}, no plaintext port (plaintext: off)`
        : `embedded mqtt broker listening: plaintext on ${plainHost}:${this.#port}${isLoopbackAddress(plainHost) ? ' (this machine only)' : ''}, TLS on ${host}:${this.#tlsPort ?? 'none'}`,
    );
    return this.#port;
  }

  /** Disconnects every client and closes the listener. Idempotent. */
  async stop(): Promise<void> {
    const broker = this.#aedes;
    const server = this.#server;
    const tlsServer = this.#tlsServer;
    this.#aedes = null;
    this.#server = null;
    this.#tlsServer = null;
    this.#tlsPort = null;
    if (!broker) return;
    const closed = Promise.all(
      [server, tlsServer].map(
        (s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve())),
      ),
    );
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    this.#ids.clear();
    this.#opts.log.info('embedded mqtt broker stopped');
  }

  /** [S-9] Logins and the ACL on `broker`. */
  #guard(broker: Aedes, access: Extract<BrokerAccess, { mode: 'login' }>): void {
    const log = this.#opts.log;
    const base = access.baseTopic;
    const login = {
      hub: access.hub,
      admin: access.admin,
      verifyDevice: access.verifyDevice,
      throttle:
        access.throttle === undefined
          ? new LoginThrottle({ clock: access.clock ?? realClock })
          : access.throttle,
    };

    broker.authenticate = (client, username, password, done) => {
      const address = plainIp((client.conn as Partial<net.Socket>).remoteAddress);
      checkLogin(login, address, username, password).then(
        (r) => {
          if (!r.ok) {
            const fields = { address, user: username, reason: r.reason };
            if (r.reason === 'throttled') log.debug(fields, 'mqtt login refused');
            else log.info(fields, 'mqtt login refused');
            return done(refusal(r.returnCode), false);
          }
          const holder = this.#ids.get(client.id);
          const live = holder && holder.client !== client && !holder.client.closed;
          if (live && !sameLogin(holder.identity, r.identity)) {
            log.warn(
              { address, user: username, client: client.id },
              'mqtt client id of another login refused',
            );
            return done(refusal(IDENTIFIER_REJECTED), false);
          }
          this.#who.set(client, r.identity);
          this.#ids.set(client.id, { client, identity: r.identity });
          done(null, true);
        },
        (err: unknown) => {
          // The store failed: a server problem, not the client's; refuse and say so.
          log.error({ err, address }, 'mqtt login check failed');
          done(refusal(3), false);
        },
      );
    };
    broker.on('clientDisconnect', (client) => {
      if (this.#ids.get(client.id)?.client === client) this.#ids.delete(client.id);
    });

    broker.authorizePublish = (client, packet, done) => {
      if (packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topic is reserved'));
      // A will left by a client that is gone: nobody to answer for it.
      const who = client ? this.#who.get(client) : undefined;
      if (client && who && canPublish(who, packet.topic, base)) return done(null);
      if (client) this.#logRefusal(client, 'publish', packet.topic);
      // Acknowledged like any other, then dropped (see REFUSED_TOPIC).
      packet.topic = REFUSED_TOPIC;
      packet.retain = false;
      packet.payload = Buffer.alloc(0);
      done(null);
    };

    broker.authorizeSubscribe = (client, sub, done) => {
      const who = this.#who.get(client);
      if (who && !sub.topic.startsWith('$') && canSubscribe(who, sub.topic, base)) {
        return done(null, sub);
      }
      this.#logRefusal(client, 'subscribe', sub.topic);
      done(null, null); // SUBACK 0x80 for this filter, the others stand
    };

    broker.authorizeForward = (_client, packet) => (packet.topic === REFUSED_TOPIC ? null : packet);
  }

  /** Once per client and topic, at debug: never the payload. */
  #logRefusal(client: Client, what: 'publish' | 'subscribe', topic: string): void {
    const seen = this.#refusals.get(client) ?? new Set<string>();
    this.#refusals.set(client, seen);
    const key = `${what} ${topic}`;
    if (seen.has(key) || seen.size >= LOGGED_REFUSALS) return;
    seen.add(key);
    const who = this.#who.get(client);
    this.#opts.log.debug({ client: client.id, who, topic }, `mqtt ${what} refused`);
  }
}

function sameLogin(a: MqttIdentity, b: MqttIdentity): boolean {
  return a.kind === b.kind && (a.kind !== 'device' || a.name === (b as typeof a).name);
}

function refusal(returnCode: number): Error & { returnCode: number } {
  const text =
    returnCode === 5 ? 'not authorized' : returnCode === 2 ? 'identifier rejected' : 'refused';
  return Object.assign(new Error(text), { returnCode });
}
