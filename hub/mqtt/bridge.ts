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
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  availability,
  callEvent,
  doorbell,
  hasStateTopic,
  OFFLINE,
  ONLINE,
  type Topics,
  topicsFor,
  userState,
} from '../../protocol/mqtt/topics.ts';
import { Backoff } from '../../shared/backoff.ts';
import { type Clock, realClock, type Timer } from '../../shared/clock.ts';
import type { CallEvent, CoreStats, PresenceEvent, UserRef } from '../core/types.ts';
import type { MqttBridgeOptions, PairingState } from './bridge-options.ts';
import { clientOptions, QOS, redact, within } from './client.ts';
import type { DiscoveryOptions } from './discovery.ts';
import { EventQueue } from './event-queue.ts';
import { GroupFeed, type GroupView } from './group-feed.ts';
import { StaleDiscovery } from './stale-discovery.ts';
import { UserFeed } from './user-feed.ts';

export type { BridgeSource, MqttBridgeOptions, PairingState } from './bridge-options.ts';

export class MqttBridge {
  readonly #opts: MqttBridgeOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #topics: Topics;
  readonly #backoff: Backoff;
  readonly #clientId: string;
  /** Latest value of every retained topic the hub owns; '' = cleared. */
  readonly #retained = new Map<string, string>();
  readonly #events: EventQueue;
  readonly #users: UserFeed;
  readonly #groups: GroupFeed;
  #client: MqttClient | null = null;
  #connected = false;
  #started = false;
  #stopped = false;
  #retry: Timer | null = null;
  #failures = 0;
  #lastError: Error | null = null;
  readonly #stale: StaleDiscovery;

  constructor(opts: MqttBridgeOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#clock = opts.clock ?? realClock;
    this.#topics = topicsFor(opts.baseTopic);
    this.#backoff = opts.backoff ?? new Backoff({ minMs: 1000, maxMs: 30_000 });
    this.#events = new EventQueue(opts.maxQueuedEvents ?? 100, this.#clock, this.#log);
    this.#clientId = opts.clientId ?? `babel-hub-${randomBytes(4).toString('hex')}`;
    this.#retained.set(this.#topics.pairing, 'closed');
    const discovery = this.#discoveryOpts();
    const setRetained = (topic: string, value: string, force?: boolean) =>
      this.#setRetained(topic, value, force);
    const clear = (topic: string) => this.#send(topic, '', true);
    const enabled = opts.discovery !== false;
    this.#stale = new StaleDiscovery({
      discovery,
      isUser: (name) => this.#safeUsers().some((u) => u.name === name),
      clear,
      log: this.#log,
    });
    this.#users = new UserFeed({
      topics: this.#topics,
      discovery,
      enabled,
      users: () => this.#safeUsers(),
      retained: (topic) => this.#retained.get(topic),
      setRetained,
      log: this.#log,
    });
    this.#groups = new GroupFeed({
      topics: this.#topics,
      discovery,
      enabled,
      groups: () => this.#safeGroups(),
      setRetained,
      clear,
      log: this.#log,
    });
  }

  /**
   * [G-1, G-2] The groups changed (the group store's `onChange`): publishes them again and
   * clears those deleted.
   */
  groupsChanged(): void {
    if (this.#stopped || !this.#started) return;
    this.#guard('groups', () => this.#groups.refresh());
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
    return this.#events.dropped;
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
    this.#guard('groups', () => this.#groups.refresh());
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
      for (const name of this.#users.known) {
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
    if (!this.#users.known.has(name)) this.#users.discover(name);
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
    this.#groups.call(e);
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

  #discoveryOpts(): DiscoveryOptions {
    const prefix = this.#opts.discoveryPrefix;
    return {
      topics: this.#topics,
      ...(prefix ? { prefix } : {}),
      ...(this.#opts.swVersion ? { swVersion: this.#opts.swVersion } : {}),
      ...(this.#opts.hubId ? { hubId: this.#opts.hubId } : {}),
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
    client.subscribe(
      [this.#topics.haStatus, this.#topics.anyDevice, ...this.#stale.filters, this.#groups.filter],
      { qos: QOS },
      (err) => {
        if (err) this.#log.warn({ err }, 'mqtt subscribe failed');
      },
    );
    client.publish(this.#topics.bridgeState, ONLINE, { qos: QOS, retain: true });
    // Recompute while still "disconnected" so that everything goes out once, below.
    this.#users.refresh(false);
    this.#groups.refresh();
    for (const [topic, value] of this.#retained) this.#send(topic, value, true);
    this.#connected = true;
    this.#events.flush((topic, payload) => this.#send(topic, payload, false));
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
        this.#users.refresh(true);
        this.#groups.refresh(true);
      }
      return;
    }
    if (this.#stale.message(topic, payload) || this.#groups.message(topic, payload)) return;
    this.#users.message(topic, payload);
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
    this.#events.push(topic, payload, expiresAt);
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

  #safeGroups(): readonly GroupView[] {
    try {
      return this.#opts.groups?.() ?? [];
    } catch (err) {
      this.#log.error({ err }, 'mqtt: listing groups failed');
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
