/**
 * What the hub knows about itself for the people who run it (docs/web.md): the page's
 * view (hub/http/view.ts) and the Prometheus metrics, watching the call core, the login
 * and pairing events and the relay from the start; the devices' MQTT statistics once a
 * broker is known; and `babel-hub status`'s answer. main.ts makes one and tells it the
 * ports as the listeners bind.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { HubConfig } from '../config-schema.ts';
import type { CallCore } from '../core/call-core.ts';
import { HubView } from '../http/view.ts';
import { redact } from '../mqtt/client.ts';
import type { Handle } from '../net/address.ts';
import type { UdpRelay } from '../relay/relay.ts';
import type { Access } from '../security/access.ts';
import type { AccountStore } from '../store/accounts.ts';
import { DeviceFeed, type DeviceFeedOptions } from './device-feed.ts';
import { HubMetrics } from './metrics.ts';

/** What `babel-hub status` prints (the control socket's `status`), and the page's hub panel. */
export interface HubStatus {
  pid: number;
  started: string;
  uptime_s: number;
  data_dir: string;
  /** Bound ports by listener name; null when off or not bound. */
  listeners: Record<string, number | null>;
  /** Stations online now, by name. */
  stations: string[];
  users: number;
  calls: Array<{ caller: string; callee: string; phase: string; relayed: boolean }>;
  pairing: string;
  /** Null with MQTT off; the URL without its password. */
  mqtt: { url: string; connected: boolean } | null;
  relay: Record<string, number>;
  /** The web page's addresses and certificate fingerprint; absent when it is off. */
  web?: { url: string; lan_url: string; fingerprint: string };
}

export interface HubObserverParts {
  readonly config: HubConfig;
  readonly clock: Clock;
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly access: Access;
  readonly relay: UdpRelay;
}

export class HubObserver {
  readonly metrics: HubMetrics;
  readonly view: HubView;
  /** Bound ports by listener name, as `status` shows them. */
  readonly ports: Record<string, number | null> = {};
  /** The web page's addresses, as `status` shows them; null when it is off. */
  web: { url: string; lan_url: string; fingerprint: string } | null = null;
  readonly #p: HubObserverParts;
  readonly #startedWall: number;
  #feed: DeviceFeed | null = null;
  #mqttUrl: string | null = null;

  constructor(parts: HubObserverParts) {
    this.#p = parts;
    const { clock, core, accounts, access, relay } = parts;
    this.#startedWall = clock.wallNow();
    this.metrics = new HubMetrics({
      source: core,
      relay: () => relay.stats,
      clock,
      mqttConnected: () => (this.#mqttUrl === null ? null : (this.#feed?.connected ?? false)),
    });
    this.view = new HubView({
      source: {
        observe: (l) => core.observe(l),
        stateOf: (id) => core.stateOf(id),
        peerOf: (id) => core.peerOf(id),
        users: () => accounts.listUsers(),
        pairing: () => ({ state: access.pairing.state, until: access.pairing.untilWallMs }),
        relayCounts: (callId) => relay.legCounts(callId),
      },
      clock,
    });
    access.onPairing(() => this.view.changed());
    access.onLogin((o) =>
      this.metrics.login(o.ok ? 'ok' : o.reason === 'throttled' ? 'throttled' : 'failed'),
    );
  }

  /** Wraps a dialect's handler so that its connections are counted by transport. */
  counted(name: string, handle: Handle, secure: boolean): Handle {
    const dialect = name.startsWith('text') ? 'text' : 'binary';
    return (stream, peer) => {
      stream.once('close', this.metrics.connection(dialect, secure ? 'tls' : 'tcp'));
      handle(stream, peer);
    };
  }

  /**
   * Reads the devices' statistics and door events from the hub's broker (a second,
   * read-only client with the bridge's login); returns how to stop it.
   */
  watchDevices(
    url: string,
    login: { username?: string | undefined; password?: string | undefined },
    log: Logger,
    connectFn?: DeviceFeedOptions['connectFn'],
  ): () => Promise<void> {
    const feed = new DeviceFeed({
      ...(connectFn ? { connectFn } : {}),
      url,
      baseTopic: this.#p.config.mqtt.base_topic,
      username: login.username,
      password: login.password,
      sinks: [this.view, this.metrics],
      isStation: (name) => this.#p.accounts.getByName(name) !== undefined,
      log,
    });
    feed.start();
    this.#feed = feed;
    this.#mqttUrl = redact(url);
    return () => feed.stop();
  }

  status(): HubStatus {
    const snap = this.view.snapshot();
    const { clock, config, relay } = this.#p;
    return {
      pid: process.pid,
      started: new Date(this.#startedWall).toISOString(),
      uptime_s: Math.round((clock.wallNow() - this.#startedWall) / 1000),
      data_dir: config.data_dir,
      listeners: { ...this.ports },
      stations: snap.stations.filter((st) => st.state !== 'offline').map((st) => st.name),
      users: snap.stations.length,
      calls: snap.calls.map((c) => ({
        caller: c.caller,
        callee: c.callee,
        phase: c.phase,
        relayed: c.relayed,
      })),
      pairing: snap.pairing.state,
      mqtt:
        this.#mqttUrl === null
          ? null
          : { url: this.#mqttUrl, connected: this.#feed?.connected ?? false },
      relay: { ...relay.stats },
      ...(this.web ? { web: { ...this.web } } : {}),
    };
  }
}
