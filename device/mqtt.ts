import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient, connect as mqttConnect } from 'mqtt';
import type { Logger } from 'pino';
import { type DoorEventPayload, doorTopic } from '../protocol/mqtt/door.ts';
import { type DeviceCommand, type DeviceStats, topicsFor } from '../protocol/mqtt/topics.ts';
import { normalizeName } from '../protocol/names.ts';
import { packageVersion } from '../shared/version.ts';
import type { MediaStats } from './media/pipeline.ts';
import { PIN_REFUSED, type PinnedBroker, PinnedTlsStream } from './mqtt-transport.ts';

/** Announced as the Home Assistant device's `sw_version`. */
const SW_VERSION = packageVersion();

/** After a refused login, the first retry; it doubles up to the cap [S-7, S-9]. */
const REFUSED_RETRY_MS = 30_000;
const REFUSED_RETRY_MAX_MS = 300_000;

export interface DeviceMqttOptions {
  url: string;
  baseTopic: string;
  name: string;
  /**
   * Whether this device drives a working door relay (announced, so the hub offers "Open
   * door"); `setDoor` changes it while running.
   */
  door: boolean;
  /** The speaker's volume 0..100, announced for Home Assistant's number entity. */
  volume?: number;
  /** Do not disturb, announced for Home Assistant's switch; `setDnd` changes it. */
  dnd?: boolean;
  /** Whom the button calls, announced for Home Assistant's "Call" button. */
  target?: string;
  /** [S-9] The broker login: the device's name and secret unless configured otherwise. */
  username?: string;
  password?: string;
  log: Logger;
  onCommand: (cmd: DeviceCommand) => void;
  /**
   * [S-9, extension] An `mqtts://` broker judged by the hub's pin (device/mqtt-transport.ts):
   * the link then runs over `PinnedTlsStream`, and `url` is only said in logs.
   */
  tls?: PinnedBroker | null;
  connectFn?: typeof mqttConnect;
  /** After a refused login, the first retry (ms); it doubles up to `refusedRetryMaxMs`. */
  refusedRetryMs?: number;
  refusedRetryMaxMs?: number;
}

/**
 * The device's own MQTT link (docs/mqtt.md): announces itself on `<base>/<name>/device`
 * (retained), publishes call statistics on `<base>/<name>/stats` every 5 s during a call,
 * and takes commands from `<base>/<name>/set`. A broker that is away never affects calls:
 * MQTT.js reconnects, and statistics are not queued while it is gone (they go stale).
 */
export class DeviceMqtt {
  readonly #o: DeviceMqttOptions;
  readonly #topics: ReturnType<typeof topicsFor>;
  /** Refused logins in a row [S-9]; each waits twice as long before the next try. */
  #refusals = 0;
  #ordinaryReconnectMs = 2000;
  /** A TLS broker's connection failure was said at warn since the link last worked. */
  #tlsTroubleSaid = false;
  #client: MqttClient | null = null;
  #stopped = false;
  #door: boolean;
  #volume: number | undefined;
  #dnd: boolean | undefined;
  #relayFallbacks = 0;

  constructor(opts: DeviceMqttOptions) {
    this.#o = opts;
    this.#topics = topicsFor(opts.baseTopic);
    this.#door = opts.door;
    this.#volume = opts.volume;
    this.#dnd = opts.dnd;
  }

  /** Do not disturb changed (an MQTT command): announced again, retained. */
  setDnd(on: boolean): void {
    if (on === this.#dnd) return;
    this.#dnd = on;
    if (this.#client?.connected) this.#announce(this.#client);
  }

  /** The speaker's volume changed (an MQTT command): announced again, retained. */
  setVolume(volume: number): void {
    if (volume === this.#volume) return;
    this.#volume = volume;
    if (this.#client?.connected) this.#announce(this.#client);
  }

  /**
   * [S-10] Announces whether the door can be opened: false while the relay is broken, so
   * the hub withdraws Home Assistant's "Open door" button, true again once it works.
   */
  setDoor(working: boolean): void {
    if (working === this.#door) return;
    this.#door = working;
    if (this.#client?.connected) this.#announce(this.#client);
  }

  /** [G-3] Calls moved to the hub's relay so far: in every statistics message from now. */
  setRelayFallbacks(n: number): void {
    this.#relayFallbacks = n;
  }

  /** [S-10] One door event on `<base>/<name>/door`, not retained. */
  publishDoor(event: DoorEventPayload): void {
    this.#client?.publish(doorTopic(this.#o.baseTopic, this.#o.name), JSON.stringify(event), {
      qos: 1,
    });
  }

  #announce(client: MqttClient): void {
    client.publish(
      this.#topics.device(this.#o.name),
      JSON.stringify({
        door: this.#door,
        ...(this.#volume !== undefined ? { volume: this.#volume } : {}),
        ...(this.#dnd !== undefined ? { dnd: this.#dnd } : {}),
        ...(this.#o.target !== undefined ? { target: this.#o.target } : {}),
        model: 'babel-device',
        sw_version: SW_VERSION,
      }),
      { retain: true, qos: 1 },
    );
  }

  /**
   * Connects in the background. MQTT.js is loaded only here, so a device with MQTT off
   * never pays for it (about 7 MB of resident memory, bench/device.ts).
   */
  start(): void {
    const o = this.#o;
    if (o.connectFn) {
      const fn = o.connectFn;
      this.#connect((opts) => fn(o.url, opts));
      return;
    }
    import('mqtt').then(
      (m) => {
        if (this.#stopped) return;
        const pinned = o.tls;
        // [S-9, extension] MQTT.js writes CONNECT (the secret) into whatever stream it is
        // given at once: the pinned stream holds it until the certificate passed.
        this.#connect(
          pinned
            ? (opts) => new m.default.MqttClient(() => new PinnedTlsStream(pinned), opts)
            : (opts) => m.default.connect(o.url, opts),
        );
      },
      (err: unknown) => o.log.error({ err }, 'MQTT client failed to load'),
    );
  }

  #connect(connect: (opts: IClientOptions) => MqttClient): void {
    const o = this.#o;
    const reconnectPeriod = 2000 + Math.floor(Math.random() * 1000);
    const client = connect({
      clientId: `babel-device-${o.name}-${randomBytes(4).toString('hex')}`,
      reconnectPeriod,
      // Without it MQTT.js gives up for good after one refused login (a changed secret).
      reconnectOnConnackError: true,
      connectTimeout: 5000,
      queueQoSZero: false,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    });
    this.#client = client;
    client.on('connect', () => {
      o.log.info({ url: o.url, username: o.username }, 'MQTT connected');
      // Subscribed first, announced once the broker has answered: a device that has
      // announced itself takes commands.
      client.subscribe(this.#topics.set(o.name), { qos: 1 }, (err) => {
        if (err) o.log.warn({ err }, 'MQTT subscription to commands failed');
        if (client.connected) this.#announce(client);
      });
    });
    client.on('message', (_topic, payload, packet) => {
      // A retained command is a stale one, delivered again on every (re)subscribe: acting
      // on it would open the door or place a call each time the link comes back. Brokers
      // set `retain` only on that delivery (MQTT 3.1.1 3.3.1.3), never on live commands.
      if (packet.retain) {
        o.log.warn(
          { payload: payload.toString('utf8', 0, 200) },
          'ignored a retained (stale) MQTT command',
        );
        return;
      }
      const cmd = parseCommand(payload);
      if (!cmd) {
        o.log.warn(
          { payload: payload.toString('utf8', 0, 200) },
          'ignored a malformed MQTT command',
        );
        return;
      }
      o.log.info({ cmd }, 'MQTT command');
      o.onCommand(cmd);
    });
    // CONNACK 4/5: bad user name or password / not authorized [S-9]. Said once per streak,
    // and retried slowly (30 s doubling to 5 min): a quick retry would only feed the hub's
    // login throttle, which counts every refusal against this address [S-7].
    this.#refusals = 0;
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // A broker certificate refused, or no pin yet (logged by HubTrust): the same slow
      // retry; the hub link going online retries at once (`retryRefusedLogin`).
      const pin = code === PIN_REFUSED;
      if (code !== 4 && code !== 5 && !pin) {
        // A TLS broker that cannot be reached (a hub older than its TLS port, a firewall
        // closed on 8883): said once until the link works, the rest at debug.
        if (o.tls && !this.#tlsTroubleSaid) {
          this.#tlsTroubleSaid = true;
          o.log.warn(
            { err, url: o.url },
            'cannot reach the MQTT broker in TLS: the hub must be one with MQTT in TLS (port 8883) and TCP 8883 open to it',
          );
        } else o.log.debug({ err }, 'MQTT error');
        return;
      }
      if (this.#refusals === 0 && !pin) {
        o.log.warn(
          { url: o.url, username: o.username, code },
          'MQTT broker refused the login: on the hub, this device logs in with its name and secret',
        );
      }
      const first = o.refusedRetryMs ?? REFUSED_RETRY_MS;
      const max = o.refusedRetryMaxMs ?? REFUSED_RETRY_MAX_MS;
      client.options.reconnectPeriod = Math.min(first * 2 ** this.#refusals, max);
      this.#refusals++;
    });
    client.on('connect', () => {
      this.#refusals = 0;
      this.#tlsTroubleSaid = false;
      client.options.reconnectPeriod = reconnectPeriod;
    });
    this.#ordinaryReconnectMs = reconnectPeriod;
    client.on('offline', () => o.log.debug('MQTT offline'));
  }

  /** Logins the broker refused in a row; 0 once one is taken. */
  get refusedLogins(): number {
    return this.#refusals;
  }

  /**
   * Logs in again at once if the broker refused the last login: called when the hub has
   * just accepted the same name and secret (an account made by `auto_create` after the
   * first MQTT login was refused), or has just paired with the hub's certificate that
   * the TLS broker is judged by [S-9, extension]. Does nothing otherwise.
   */
  retryRefusedLogin(): void {
    const client = this.#client;
    if (!client || client.connected || this.#refusals === 0) return;
    this.#o.log.info('retrying the MQTT login the hub has just accepted');
    client.options.reconnectPeriod = this.#ordinaryReconnectMs;
    client.reconnect();
  }

  /** Publishes a call's statistics (QoS 0, dropped while the broker is away). */
  publishStats(s: MediaStats): void {
    if (!this.#client?.connected) return;
    this.#client.publish(
      this.#topics.stats(this.#o.name),
      JSON.stringify(deviceStats(s, this.#relayFallbacks)),
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.#client;
    this.#client = null;
    if (c) await c.endAsync(false).catch(() => {});
  }
}

/** `MediaStats` as published on `<base>/<user>/stats` (protocol/mqtt/topics.ts: DeviceStats). */
export function deviceStats(s: MediaStats, relayFallbacks = 0): Required<DeviceStats> {
  // RFC 3550: expected = unique packets received + lost (`received` counts duplicates too).
  const expected = Math.max(0, s.received - s.duplicates) + s.lost;
  return {
    packets: s.received,
    loss_pct: expected > 0 ? Math.round((1000 * s.lost) / expected) / 10 : 0,
    late: s.late,
    concealed: s.concealed,
    jitter_ms: Math.round(s.jitterMs * 10) / 10,
    buffer_ms: s.depthMs,
    bitrate_kbps: Math.round(s.bitrate / 100) / 10,
    srtp: s.srtp,
    srtp_auth_failed: s.srtpAuthFailed,
    srtp_replayed: s.srtpReplayed,
    relay_fallbacks: relayFallbacks,
  };
}

/** Commands are short; a larger payload is refused before it is decoded. */
const MAX_COMMAND_BYTES = 1024;

/**
 * A `<base>/<user>/set` payload, or null when it is not one of the commands. A call's
 * target is a user name, ASCII letters lowercased as the hub does [T-4].
 */
export function parseCommand(payload: Buffer | string): DeviceCommand | null {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_COMMAND_BYTES) return null;
  const text = payload.toString();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  switch (o.action) {
    case 'accept':
    case 'hangup':
    case 'door':
      return { action: o.action };
    case 'volume':
      // An integer 0..100; anything else is refused, not clamped: a typo must not blast.
      return Number.isInteger(o.value) && (o.value as number) >= 0 && (o.value as number) <= 100
        ? { action: 'volume', value: o.value as number }
        : null;
    case 'dnd':
      return typeof o.value === 'boolean' ? { action: 'dnd', value: o.value } : null;
    case 'call':
    case 'page': {
      // [G-2] a page's target is a group, named as users are [T-4]
      const target = typeof o.target === 'string' ? normalizeName(o.target) : null;
      return target === null ? null : { action: o.action, target };
    }
    default:
      return null;
  }
}
