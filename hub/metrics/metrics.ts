/**
 * The hub's Prometheus metrics (`GET /metrics`, docs/web.md), in a prom-client Registry of
 * their own (never the global one, so two hubs in one process never mix). Counters are
 * fed by events (connections, logins, calls, door events); gauges that mirror the hub's
 * state (stations online, relay counters, the devices' statistics) are read at scrape.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DoorEventPayload } from '../../protocol/mqtt/door.ts';
import type { DeviceStats } from '../../protocol/mqtt/topics.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CallEvent, PresenceEvent } from '../core/types.ts';
import type { RelayStats } from '../relay/relay.ts';

export type Dialect = 'text' | 'binary';
export type Transport = 'tcp' | 'tls';
export type LoginResult = 'ok' | 'failed' | 'throttled';

export interface MetricsSource {
  observe(listener: { presence?: (e: PresenceEvent) => void; call?: (e: CallEvent) => void }): void;
  readonly online: number;
  readonly activeCalls: number;
}

export interface HubMetricsOptions {
  source: MetricsSource;
  relay: () => Readonly<RelayStats>;
  clock: Clock;
  /** Whether the hub's MQTT client is connected; null with MQTT off. */
  mqttConnected: () => boolean | null;
  /** Device statistics older than this are not exported (the call ended). */
  statsMaxAgeMs?: number;
}

/** The device statistics exported per station, metric name -> field. */
const DEVICE_GAUGES = [
  ['babel_device_loss_percent', 'loss_pct', 'packets lost, percent of expected (device report)'],
  ['babel_device_jitter_ms', 'jitter_ms', 'RFC 3550 interarrival jitter (device report)'],
  ['babel_device_concealed_frames', 'concealed', 'frames concealed in this call (device report)'],
  ['babel_device_late_packets', 'late', 'packets after their play-out slot (device report)'],
  ['babel_device_packets', 'packets', 'RTP packets received in this call (device report)'],
  ['babel_device_buffer_ms', 'buffer_ms', 'jitter buffer depth (device report)'],
  ['babel_device_bitrate_kbps', 'bitrate_kbps', 'received media bitrate (device report)'],
] as const;

export class HubMetrics {
  readonly registry = new Registry();
  readonly #connections: Counter<'dialect' | 'transport'>;
  readonly #open: Gauge<'dialect' | 'transport'>;
  readonly #logins: Counter<'result'>;
  readonly #webLogins: Counter<'result'>;
  readonly #calls: Counter<'outcome'>;
  readonly #setup: Histogram;
  readonly #answer: Histogram;
  readonly #doors: Counter<'station' | 'result' | 'by'>;
  readonly #stats = new Map<string, { stats: DeviceStats; at: number }>();
  readonly #ringingAt = new Map<string, number>();
  readonly #clock: Clock;

  constructor(opts: HubMetricsOptions) {
    const registers = [this.registry];
    const clock = opts.clock;
    this.#clock = clock;
    const maxAge = opts.statsMaxAgeMs ?? 15_000;
    const startedAt = clock.now();
    this.#connections = new Counter({
      name: 'babel_connections_total',
      help: 'connections accepted, by dialect and transport',
      labelNames: ['dialect', 'transport'],
      registers,
    });
    this.#open = new Gauge({
      name: 'babel_connections_open',
      help: 'connections open now, by dialect and transport',
      labelNames: ['dialect', 'transport'],
      registers,
    });
    this.#logins = new Counter({
      name: 'babel_logins_total',
      help: 'device logins on either dialect, by result (ok, failed, throttled)',
      labelNames: ['result'],
      registers,
    });
    this.#webLogins = new Counter({
      name: 'babel_web_logins_total',
      help: 'logins to the web page, by result (ok, failed, throttled)',
      labelNames: ['result'],
      registers,
    });
    this.#calls = new Counter({
      name: 'babel_calls_total',
      help: 'calls ended, by outcome (the end reason of [T-10])',
      labelNames: ['outcome'],
      registers,
    });
    this.#setup = new Histogram({
      name: 'babel_call_setup_seconds',
      help: 'from a CALL request to the callee ringing (relay and keys included)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.#answer = new Histogram({
      name: 'babel_call_answer_seconds',
      help: 'from ringing to the call being up (the callee answering)',
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60],
      registers,
    });
    this.#doors = new Counter({
      name: 'babel_door_events_total',
      help: 'door events published by the stations [S-10], by result and source',
      labelNames: ['station', 'result', 'by'],
      registers,
    });
    const relay = opts.relay;
    // The relay's own counters, read at scrape (prom-client counters only go up: reset, then inc)
    const relayCounter = (name: string, help: string, field: keyof RelayStats) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(relay()[field]);
        },
      });
    relayCounter('babel_relay_packets_forwarded_total', 'packets the relay sent on', 'forwarded');
    relayCounter('babel_relay_bytes_forwarded_total', 'bytes the relay sent on', 'forwardedBytes');
    relayCounter(
      'babel_relay_packets_translated_total',
      'packets the relay translated between SRTP and RTP [S-4]',
      'translated',
    );
    new Gauge({
      name: 'babel_relay_open_legs',
      help: 'relay legs open now (two per relayed call)',
      registers,
      collect() {
        this.set(relay().openLegs);
      },
    });
    const dropped = {
      wrong_source: 'wrongSource',
      invalid: 'invalid',
      no_peer: 'noPeer',
      srtp_auth_failed: 'srtpAuthFailed',
      srtp_replayed: 'srtpReplayed',
    } as const;
    new Counter({
      name: 'babel_relay_packets_dropped_total',
      help: 'packets the relay dropped, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const s = relay();
        this.reset();
        for (const [reason, field] of Object.entries(dropped)) this.inc({ reason }, s[field]);
      },
    });
    const source = opts.source;
    new Gauge({
      name: 'babel_stations_online',
      help: 'stations logged in now',
      registers,
      collect() {
        this.set(source.online);
      },
    });
    new Gauge({
      name: 'babel_calls_active',
      help: 'calls ringing or up now',
      registers,
      collect() {
        this.set(source.activeCalls);
      },
    });
    new Gauge({
      name: 'babel_mqtt_connected',
      help: 'whether the hub is connected to its MQTT broker (absent with MQTT off)',
      registers,
      collect() {
        const c = opts.mqttConnected();
        this.reset();
        if (c !== null) this.set(c ? 1 : 0);
      },
    });
    new Gauge({
      name: 'babel_uptime_seconds',
      help: 'seconds since the hub started',
      registers,
      collect() {
        this.set((clock.now() - startedAt) / 1000);
      },
    });
    const stats = this.#stats;
    for (const [name, field, help] of DEVICE_GAUGES) {
      new Gauge({
        name,
        help,
        labelNames: ['station'],
        registers,
        collect() {
          this.reset();
          const now = clock.wallNow();
          for (const [station, s] of stats) {
            if (now - s.at <= maxAge) this.set({ station }, s.stats[field]);
          }
        },
      });
    }
    opts.source.observe({ call: (e) => this.#call(e) });
  }

  /** A connection was accepted; call the returned function when it closes. */
  connection(dialect: Dialect, transport: Transport): () => void {
    this.#connections.inc({ dialect, transport });
    this.#open.inc({ dialect, transport });
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.#open.dec({ dialect, transport });
    };
  }

  login(result: LoginResult): void {
    this.#logins.inc({ result });
  }

  webLogin(result: LoginResult): void {
    this.#webLogins.inc({ result });
  }

  /** A CALL request took `ms` to ring the callee. */
  callSetup(ms: number): void {
    this.#setup.observe(ms / 1000);
  }

  deviceStats(station: string, stats: DeviceStats): void {
    this.#stats.set(station, { stats, at: this.#clock.wallNow() });
  }

  doorEvent(station: string, event: DoorEventPayload): void {
    this.#doors.inc({ station, result: event.result, by: event.by });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #call(e: CallEvent): void {
    const id = e.call.id;
    if (e.event === 'ringing') this.#ringingAt.set(id, this.#clock.now());
    else if (e.event === 'started') {
      const at = this.#ringingAt.get(id);
      if (at !== undefined) this.#answer.observe((this.#clock.now() - at) / 1000);
    } else {
      this.#ringingAt.delete(id);
      this.#calls.inc({ outcome: e.reason ?? 'unknown' });
    }
  }
}
