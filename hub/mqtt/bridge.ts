/**
 * The hub's MQTT client (docs/mqtt.md): publishes the bridge state, every user's
 * availability and state, call events and Home Assistant discovery, from the call core's
 * observer events. zigbee2mqtt's pattern: a retained `online`, `offline` as the last will.
 *
 * Calls never depend on MQTT. The observer callbacks only update memory and hand packets to
 * MQTT.js; nothing here throws into the core, and a broker that is down, refuses or is
 * misconfigured is logged and retried with exponential backoff and jitter, forever.
 *
 * While the broker is away nothing reaches MQTT.js (its own offline queue is unbounded).
 * Instead the bridge keeps:
 * - the latest value of every retained topic it owns (bridge, per-user state and
 *   availability, discovery): one entry per topic, so bounded by the number of users; all
 *   of it is re-published on every connect, since a restarted broker may have lost it;
 * - the last `maxQueuedEvents` (100) call events, oldest dropped first and counted;
 *   doorbell events are kept only `doorbellTtlMs` (30 s): a late ring is a false alarm.
 * Messages in flight when the connection drops may be lost (events) or re-sent (state).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  availability,
  callEvent,
  type DeviceAnnouncement,
  doorbell,
  hasStateTopic,
  OFFLINE,
  ONLINE,
  parseDeviceAnnouncement,
  type Topics,
  topicsFor,
  userState,
} from '../../protocol/mqtt/topics.ts';
import { Backoff } from '../../shared/backoff.ts';
import { type Clock, realClock, type Timer } from '../../shared/clock.ts';
import type { CallEvent, CoreStats, PresenceEvent, UserRef, UserState } from '../core/types.ts';
import { clientOptions, QOS, redact, within } from './client.ts';
import { bridgeDiscovery, type DiscoveryOptions, userDiscovery } from './discovery.ts';

/** What the bridge needs of the call core (`CallCore` fits). */
export interface BridgeSource {
  observe(listener: {
    presence?: (e: PresenceEvent) => void;
    call?: (e: CallEvent) => void;
    stats?: (s: Readonly<CoreStats>) => void;
  }): void;
  /** [G-1..G-3] Counters published retained on `<base>/bridge/stats`, if the source has them. */
  readonly stats?: Readonly<CoreStats>;
  stateOf(userId: string): UserState;
  peerOf(userId: string): UserRef | null;
}

export interface MqttBridgeOptions {
  /** `mqtt://host[:port]` or `mqtts://...`. */
  readonly url: string;
  readonly baseTopic: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Default `babel-hub-<8 hex>`: unique per process, within MQTT 3.1.1's 23 characters. */
  readonly clientId?: string | undefined;
  readonly source: BridgeSource;
  /** Every known user (the account store's `listUsers`), for discovery and start-up state. */
  readonly users: () => readonly UserRef[];
  readonly log: Logger;
  readonly clock?: Clock;
  /** The MQTT.js seam. */
  readonly connectFn?: (url: string, opts: IClientOptions) => MqttClient;
  readonly backoff?: Backoff;
  readonly maxQueuedEvents?: number;
  readonly doorbellTtlMs?: number;
  /** How long `stop()` waits for the broker to take `offline` and the disconnect. */
  readonly stopTimeoutMs?: number;
  readonly discoveryPrefix?: string;
  readonly swVersion?: string;
}

/** [S-6] What `<base>/bridge/pairing` says. */
export type PairingState = 'open' | 'closed';

interface QueuedEvent {
  readonly topic: string;
  readonly payload: string;
  /** Clock time after which it is not worth sending; null = no limit. */
  readonly expiresAt: number | null;
}

export class MqttBridge {
  readonly #opts: MqttBridgeOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #topics: Topics;
  readonly #backoff: Backoff;
  readonly #maxEvents: number;
  readonly #clientId: string;
  /** Latest value of every retained topic the hub owns; '' = cleared. */
  readonly #retained = new Map<string, string>();
  readonly #events: QueuedEvent[] = [];
  readonly #devices = new Map<string, DeviceAnnouncement>();
  /** Users whose discovery is in `#retained`. */
  readonly #known = new Set<string>();
  #client: MqttClient | null = null;
  #connected = false;
  #started = false;
  #stopped = false;
  #retry: Timer | null = null;
  #failures = 0;
  #lastError: Error | null = null;
  #dropped = 0;

  constructor(opts: MqttBridgeOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#clock = opts.clock ?? realClock;
    this.#topics = topicsFor(opts.baseTopic);
    this.#backoff = opts.backoff ?? new Backoff({ minMs: 1000, maxMs: 30_000 });
    this.#maxEvents = opts.maxQueuedEvents ?? 100;
    this.#clientId = opts.clientId ?? `babel-hub-${randomBytes(4).toString('hex')}`;
    this.#retained.set(this.#topics.pairing, 'closed');
  }

  /**
   * [S-6] Shows the pairing window on retained `<base>/bridge/pairing`. `closed` until
   * told otherwise; kept and re-published on every connect like the other retained topics.
   */
  pairing(state: PairingState): void {
    if (this.#stopped) return;
    this.#guard('pairing', () => this.#setRetained(this.#topics.pairing, state));
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Events dropped from the full queue since start. */
  get droppedEvents(): number {
    return this.#dropped;
  }

  /**
   * Snapshots every user's state, starts observing the core and begins connecting. Returns
   * at once: the hub never waits for the broker.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const now = this.#clock.wallNow();
    for (const u of this.#safeUsers()) {
      const state = this.#opts.source.stateOf(u.id);
      this.#presence({
        user: u,
        state,
        peer: this.#opts.source.peerOf(u.id)?.name ?? null,
        since: now,
      });
    }
    const stats = this.#opts.source.stats;
    if (stats) this.#stats(stats);
    this.#opts.source.observe({
      presence: (e) => this.#stopped || this.#guard('presence', () => this.#presence(e)),
      call: (e) => this.#stopped || this.#guard('call event', () => this.#call(e)),
      stats: (s) => this.#stopped || this.#guard('stats', () => this.#stats(s)),
    });
    this.#attempt();
  }

  /**
   * Marks every user offline (without the hub nobody is connected), publishes `offline`,
   * disconnects cleanly (no last will) and stops retrying. Later core events are ignored.
   * Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#retry?.cancel();
    this.#retry = null;
    const client = this.#client;
    if (!client) return;
    const ms = this.#opts.stopTimeoutMs ?? 2000;
    if (this.#connected) {
      const since = this.#clock.wallNow();
      for (const name of this.#known) {
        if (this.#retained.get(this.#topics.availability(name)) === OFFLINE) continue;
        this.#presence({ user: { id: '', name }, state: 'offline', peer: null, since });
      }
      await within(ms, (done) =>
        client.publish(this.#topics.bridgeState, OFFLINE, { qos: QOS, retain: true }, done),
      );
      if (await within(ms, (done) => client.end(false, {}, done))) {
        this.#log.info('mqtt disconnected');
        return;
      }
    }
    client.end(true);
  }

  // --- what the core tells us -------------------------------------------------------------

  #presence(e: PresenceEvent): void {
    const name = e.user.name;
    if (!this.#known.has(name)) this.#discoverUser(name);
    this.#setRetained(this.#topics.availability(name), availability(e.state));
    if (hasStateTopic(name)) {
      this.#setRetained(this.#topics.user(name), JSON.stringify(userState(e)));
    }
  }

  /** [G-1..G-3] Retained `<base>/bridge/stats`: group calls, pages, relay fallbacks. */
  #stats(s: Readonly<CoreStats>): void {
    const payload = {
      group_calls: s.groupCalls,
      pages: s.pages,
      relay_fallbacks: s.relayFallbacks,
    };
    this.#setRetained(this.#topics.bridgeStats, JSON.stringify(payload));
  }

  #call(e: CallEvent): void {
    this.#emit(this.#topics.calls, JSON.stringify(callEvent(e)), null);
    if (e.event === 'ringing') {
      const ttl = this.#opts.doorbellTtlMs ?? 30_000;
      this.#emit(
        this.#topics.doorbell(e.call.caller.name),
        JSON.stringify(doorbell(e)),
        this.#clock.now() + ttl,
      );
    }
  }

  // --- discovery ----------------------------------------------------------------------------

  /** Recomputes discovery for every user; users gone from the store lose theirs. */
  #refreshDiscovery(force: boolean): void {
    for (const m of bridgeDiscovery(this.#discoveryOpts())) {
      this.#setRetained(m.topic, JSON.stringify(m.payload), force);
    }
    const current = new Set(this.#safeUsers().map((u) => u.name));
    for (const name of current) this.#discoverUser(name, force);
    for (const name of [...this.#known]) {
      if (!current.has(name)) this.#forgetUser(name);
    }
  }

  #discoverUser(name: string, force = false): void {
    this.#known.add(name);
    for (const m of userDiscovery(this.#discoveryOpts(), name, this.#devices.get(name) ?? null)) {
      if (m.payload) this.#setRetained(m.topic, JSON.stringify(m.payload), force);
      else if (this.#retained.get(m.topic)) this.#setRetained(m.topic, '');
    }
  }

  #forgetUser(name: string): void {
    this.#known.delete(name);
    this.#devices.delete(name);
    for (const m of userDiscovery(this.#discoveryOpts(), name, { door: true })) {
      if (this.#retained.has(m.topic)) this.#setRetained(m.topic, '');
    }
    this.#setRetained(this.#topics.availability(name), '');
    if (hasStateTopic(name)) this.#setRetained(this.#topics.user(name), '');
  }

  #discoveryOpts(): DiscoveryOptions {
    const prefix = this.#opts.discoveryPrefix;
    return {
      topics: this.#topics,
      ...(prefix ? { prefix } : {}),
      ...(this.#opts.swVersion ? { swVersion: this.#opts.swVersion } : {}),
    };
  }

  // --- the connection -----------------------------------------------------------------------

  #attempt(): void {
    this.#retry = null;
    if (this.#stopped) return;
    try {
      if (this.#client) {
        this.#client.reconnect();
        return;
      }
      const connect = this.#opts.connectFn ?? mqtt.connect;
      const client = connect(
        this.#opts.url,
        clientOptions(this.#clientId, this.#topics.bridgeState, this.#opts),
      );
      client.on('connect', () => this.#guard('connect', () => this.#onConnect()));
      client.on('message', (topic, payload, packet) =>
        this.#guard('message', () => this.#onMessage(topic, payload, packet.retain)),
      );
      client.on('error', (err) => {
        // Always followed by 'close', which logs it.
        this.#lastError = err;
      });
      client.on('close', () => this.#guard('close', () => this.#onClose()));
      this.#client = client;
    } catch (err) {
      // A URL MQTT.js cannot use: as misconfigured as a refusing broker; log and retry.
      this.#failures++;
      this.#log.error({ err, url: redact(this.#opts.url) }, 'mqtt client could not be created');
      this.#scheduleRetry();
    }
  }

  #onConnect(): void {
    const client = this.#client;
    if (!client || this.#stopped) return;
    this.#backoff.reset();
    this.#log.info(
      { url: redact(this.#opts.url), clientId: this.#clientId, failures: this.#failures },
      'mqtt connected',
    );
    this.#failures = 0;
    client.subscribe([this.#topics.haStatus, this.#topics.anyDevice], { qos: QOS }, (err) => {
      if (err) this.#log.warn({ err }, 'mqtt subscribe failed');
    });
    client.publish(this.#topics.bridgeState, ONLINE, { qos: QOS, retain: true });
    // Recompute while still "disconnected" so that everything goes out once, below.
    this.#refreshDiscovery(false);
    for (const [topic, value] of this.#retained) this.#send(topic, value, true);
    this.#connected = true;
    this.#flushEvents();
  }

  #onClose(): void {
    const was = this.#connected;
    this.#connected = false;
    if (this.#stopped) return;
    this.#failures++;
    const delay = this.#scheduleRetry();
    const fields = {
      url: redact(this.#opts.url),
      err: this.#lastError ?? undefined,
      retryMs: delay,
      failures: this.#failures,
    };
    this.#lastError = null;
    if (was) this.#log.warn(fields, 'mqtt connection lost; reconnecting');
    else if (this.#failures === 1) this.#log.warn(fields, 'mqtt broker unreachable; retrying');
    else this.#log.debug(fields, 'mqtt broker still unreachable');
  }

  #scheduleRetry(): number {
    this.#retry?.cancel();
    const delay = this.#backoff.next();
    this.#retry = this.#clock.setTimeout(() => this.#attempt(), delay);
    return delay;
  }

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === this.#topics.haStatus) {
      // A retained birth is old news: discovery went out on connect.
      if (!retained && payload.toString() === ONLINE) {
        this.#log.info('home assistant online; re-publishing discovery');
        this.#refreshDiscovery(true);
      }
      return;
    }
    const owner = this.#topics.deviceOwner(topic);
    if (owner === null || !this.#safeUsers().some((u) => u.name === owner)) return;
    const next = parseDeviceAnnouncement(payload);
    const before = this.#devices.get(owner);
    if (JSON.stringify(before ?? null) === JSON.stringify(next)) return;
    if (next) this.#devices.set(owner, next);
    else this.#devices.delete(owner);
    this.#log.debug({ user: owner, device: next }, 'device announcement');
    this.#discoverUser(owner);
  }

  // --- publishing ---------------------------------------------------------------------------

  #setRetained(topic: string, value: string, force = false): void {
    if (!force && this.#retained.get(topic) === value) return;
    this.#retained.set(topic, value);
    if (this.#connected) this.#send(topic, value, true);
  }

  #emit(topic: string, payload: string, expiresAt: number | null): void {
    if (this.#connected) {
      this.#send(topic, payload, false);
      return;
    }
    this.#events.push({ topic, payload, expiresAt });
    if (this.#events.length > this.#maxEvents) {
      this.#events.shift();
      this.#dropped++;
    }
  }

  #flushEvents(): void {
    const now = this.#clock.now();
    let expired = 0;
    for (const e of this.#events.splice(0)) {
      if (e.expiresAt !== null && e.expiresAt < now) expired++;
      else this.#send(e.topic, e.payload, false);
    }
    if (expired > 0 || this.#dropped > 0) {
      this.#log.warn({ expired, dropped: this.#dropped }, 'mqtt events lost while disconnected');
    }
  }

  #send(topic: string, payload: string, retain: boolean): void {
    this.#client?.publish(topic, payload, { qos: QOS, retain }, (err) => {
      if (err) this.#log.debug({ err, topic }, 'mqtt publish failed');
    });
  }

  // --- safety -------------------------------------------------------------------------------

  #safeUsers(): readonly UserRef[] {
    try {
      return this.#opts.users();
    } catch (err) {
      this.#log.error({ err }, 'mqtt: listing users failed');
      return [];
    }
  }

  /** Runs `fn`, logging instead of throwing: the core's callers must never see MQTT fail. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, `mqtt ${what} handler failed`);
    }
  }
}
