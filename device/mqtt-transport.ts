/**
 * [S-9, extension] Where the device's MQTT link goes and how its broker is trusted.
 *
 *   mqtt.url: auto, TLS hub link   mqtts://<hub host>:8883, the hub's embedded broker in
 *                                  TLS, judged by the SAME pin as the hub link [S-3]
 *   mqtt.url: auto, plaintext link mqtt://<hub host>:1883 (a hub on this machine)
 *   mqtt.url: mqtts://HOST[:PORT]  TLS, judged by that pin as well
 *   mqtt.url: mqtt://HOST[:PORT]   plaintext; to a non-loopback host while the hub link is
 *                                  TLS, a lenient setting warned about at start [S-11]
 *
 * The pin is `hub_fingerprint`, else the hub link's first-use record. The MQTT link never
 * records one itself: until the hub link has paired it refuses the broker and waits. The
 * broker's certificate is judged on 'secureConnect', before any byte of the CONNECT
 * packet (which carries the secret) reaches the socket: MQTT.js writes CONNECT as soon as
 * it has a stream, so the stream it gets (`PinnedTlsStream`) holds every write until the
 * certificate passed, and drops them when it did not.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { DeviceConfig } from './config-schema.ts';
import { resolveStateDir } from './credentials.ts';
import { HubTrust } from './hub/trust.ts';
import { brokerUrlFor, isLoopback, parseHubAddress } from './hub-address.ts';

/** The embedded broker's TLS port (hub `mqtt.embedded_tls_port`). */
export const BROKER_TLS_PORT = 8883;

/** The error a refused broker certificate (or a pin not there yet) ends the stream with. */
export const PIN_REFUSED = 'EBROKERPIN';

/** A TLS broker and how its certificate is judged. */
export interface PinnedBroker {
  readonly host: string;
  readonly port: number;
  /** Whether the certificate (DER) is the hub's pinned one; logs its own refusals. */
  readonly check: (der: Buffer) => boolean;
}

export interface BrokerTarget {
  /** For logs and for a plaintext link: what MQTT.js connects to. */
  readonly url: string;
  /** Set for `mqtts://`: the link runs over `PinnedTlsStream`. */
  readonly tls: PinnedBroker | null;
}

type BrokerConfig = Pick<DeviceConfig, 'hub' | 'hub_fingerprint' | 'mqtt' | 'state_dir' | 'name'>;

/** Where `mqtt.url` (not `off`) leads, as the table above says. */
export function brokerFor(
  config: BrokerConfig,
  deps: { readonly env: NodeJS.ProcessEnv; readonly log: Logger },
): BrokerTarget {
  const hub = parseHubAddress(config.hub);
  let url = config.mqtt.url;
  if (url === 'auto') {
    url =
      hub.transport === 'tls'
        ? `mqtts://${bracket(hub.host)}:${BROKER_TLS_PORT}`
        : brokerUrlFor(config.hub);
  }
  const u = new URL(url);
  if (u.protocol !== 'mqtts:') return { url, tls: null };
  const host = unbracket(u.hostname);
  const port = u.port === '' ? BROKER_TLS_PORT : Number(u.port);
  const trust = new HubTrust({
    pin: config.hub_fingerprint ?? null,
    stateDir: resolveStateDir(config, deps.env),
    log: deps.log,
  });
  return {
    url,
    tls: {
      host,
      port,
      check: (der) => trust.check(der, `${host}:${port}`, { firstUse: 'refuse' }),
    },
  };
}

/**
 * [S-11] An explicit `mqtt://` to another machine while the hub link is TLS: the secret
 * the hub link protects crosses the network in clear on MQTT. Null when it does not.
 */
export function plaintextBrokerWarning(config: Pick<DeviceConfig, 'hub' | 'mqtt'>): string | null {
  const url = config.mqtt.url;
  if (!url.startsWith('mqtt://')) return null;
  let host: string;
  try {
    host = unbracket(new URL(url).hostname);
  } catch {
    return null;
  }
  if (isLoopback(host) || parseHubAddress(config.hub).transport !== 'tls') return null;
  return `mqtt.url is ${url}: the hub link is TLS, but this device's secret (its MQTT login), its commands (door included) and its statistics cross the network in clear; use auto or mqtts://`;
}

/**
 * A TLS connection to a broker that writes nothing until the broker's certificate passed
 * `check`: what MQTT.js writes before (the CONNECT packet) waits here, and is dropped with
 * the connection when the certificate is refused. Reads pass through once trusted.
 */
export class PinnedTlsStream extends Duplex {
  readonly #socket: tls.TLSSocket;
  #trusted = false;
  /** Writes held until the certificate is judged. */
  #held: { chunk: Buffer; done: (err?: Error | null) => void }[] = [];

  constructor(broker: PinnedBroker, connectFn: typeof tls.connect = tls.connect) {
    super();
    const socket = connectFn({
      host: broker.host,
      port: broker.port,
      minVersion: 'TLSv1.2',
      // Self-signed: trust is the pin, judged on 'secureConnect' below.
      rejectUnauthorized: false,
      ...(net.isIP(broker.host) === 0 ? { servername: broker.host } : {}),
    });
    this.#socket = socket;
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate()?.raw;
      if (!raw || raw.length === 0 || !broker.check(raw)) {
        const err = Object.assign(new Error('MQTT broker certificate refused (hub pin)'), {
          code: PIN_REFUSED,
        });
        this.#fail(err);
        return;
      }
      this.#trusted = true;
      const held = this.#held;
      this.#held = [];
      for (const h of held) socket.write(h.chunk, h.done);
    });
    socket.on('data', (d: Buffer) => {
      if (this.#trusted && !this.push(d)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** Drops everything held, closes the connection, ends this stream with `err`. */
  #fail(err: Error): void {
    const held = this.#held;
    this.#held = [];
    this.#socket.destroy();
    for (const h of held) h.done(err);
    this.destroy(err);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.#trusted) this.#socket.write(chunk, done);
    else this.#held.push({ chunk, done });
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.#trusted) this.#socket.end(() => done());
    else {
      this.#socket.destroy();
      done();
    }
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    const held = this.#held;
    this.#held = [];
    for (const h of held) h.done(err ?? new Error('closed'));
    this.#socket.destroy();
    done(err);
  }
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}
