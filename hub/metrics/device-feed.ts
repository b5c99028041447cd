/**
 * What the devices publish that the page and `/metrics` show: call statistics on
 * `<base>/<name>/stats` (every 5 s during a call) and door events on `<base>/<name>/door`
 * [S-10]. A second MQTT client of the hub, with the bridge's login, that only reads; it
 * has no last will (the bridge's `offline` is the hub's). Payloads are parsed strictly:
 * anything that is not the documented JSON is counted and dropped, never thrown.
 * MQTT.js reconnects it by itself every 5 s; calls never depend on it.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DoorEventPayload } from '../../protocol/mqtt/door.ts';
import type { DeviceStats } from '../../protocol/mqtt/topics.ts';
import { redact } from '../mqtt/client.ts';

export interface DeviceFeedSink {
  deviceStats(station: string, stats: DeviceStats): void;
  doorEvent(station: string, event: DoorEventPayload): void;
}

export interface DeviceFeedOptions {
  readonly url: string;
  readonly baseTopic: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly sinks: readonly DeviceFeedSink[];
  /** Whether a name is a known station: anything else is dropped (an external broker may carry strangers). */
  readonly isStation: (name: string) => boolean;
  readonly log: Logger;
  readonly connectFn?: (url: string, opts: IClientOptions) => MqttClient;
}

const NUMBERS = [
  'packets',
  'loss_pct',
  'late',
  'concealed',
  'jitter_ms',
  'buffer_ms',
  'bitrate_kbps',
] as const;
const OPTIONAL_NUMBERS = ['srtp_auth_failed', 'srtp_replayed'] as const;

/** A `<base>/<name>/stats` payload, or null when it is not one. */
export function parseDeviceStats(payload: Buffer | string): DeviceStats | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(payload.toString()) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const out: Record<string, number | boolean> = {};
  for (const k of NUMBERS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return null;
    out[k] = v;
  }
  for (const k of OPTIONAL_NUMBERS) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  if (typeof o.srtp === 'boolean') out.srtp = o.srtp;
  return out as unknown as DeviceStats;
}

const RESULTS = new Set(['opened', 'refused', 'failed']);
const SOURCES = new Set(['dtmf', 'mqtt', 'button']);

/** A `<base>/<name>/door` payload [S-10], or null when it is not one. */
export function parseDoorEvent(payload: Buffer | string): DoorEventPayload | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(payload.toString()) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  if (!RESULTS.has(o.result as string) || !SOURCES.has(o.by as string)) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
  return {
    result: o.result as DoorEventPayload['result'],
    by: o.by as DoorEventPayload['by'],
    from: text(o.from),
    reason: text(o.reason),
  };
}

export class DeviceFeed {
  readonly #opts: DeviceFeedOptions;
  #client: MqttClient | null = null;
  #connected = false;
  /** Payloads that were not the documented JSON. */
  invalid = 0;

  constructor(opts: DeviceFeedOptions) {
    this.#opts = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    const o = this.#opts;
    const options: IClientOptions = {
      clientId: `babel-hub-feed-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 5000,
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
    };
    const connect = o.connectFn ?? mqtt.connect;
    try {
      const client = connect(o.url, options);
      client.on('connect', () => {
        this.#connected = true;
        client.subscribe([`${o.baseTopic}/+/stats`, `${o.baseTopic}/+/door`], { qos: 0 }, (err) => {
          if (err) o.log.warn({ err }, 'device feed: subscribe failed');
        });
      });
      client.on('close', () => {
        this.#connected = false;
      });
      client.on('error', (err) => o.log.debug({ err, url: redact(o.url) }, 'device feed error'));
      client.on('message', (topic, payload) => this.#message(topic, payload));
      this.#client = client;
    } catch (err) {
      o.log.error({ err, url: redact(o.url) }, 'device feed not started');
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      client.end(true, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #message(topic: string, payload: Buffer): void {
    const head = `${this.#opts.baseTopic}/`;
    if (!topic.startsWith(head)) return;
    const rest = topic.slice(head.length).split('/');
    if (rest.length !== 2 || !rest[0]) return;
    const [station, kind] = rest as [string, string];
    try {
      if ((kind !== 'stats' && kind !== 'door') || !this.#opts.isStation(station)) return;
      if (kind === 'stats') {
        const stats = parseDeviceStats(payload);
        if (!stats) this.invalid++;
        else for (const s of this.#opts.sinks) s.deviceStats(station, stats);
      } else if (kind === 'door') {
        const event = parseDoorEvent(payload);
        if (!event) this.invalid++;
        else for (const s of this.#opts.sinks) s.doorEvent(station, event);
      }
    } catch (err) {
      this.#opts.log.error({ err, topic }, 'device feed: handler failed');
    }
  }
}
