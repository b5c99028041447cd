import path from 'node:path';
import type { Logger } from 'pino';
import { type Clock, realClock } from '../shared/clock.ts';
import type { Component } from '../shared/component.ts';
import { binaryHandler } from './binary/connection.ts';
import type { HubConfig } from './config-schema.ts';
import { type ConnectionLimits, DEFAULT_LIMITS, type HubContext } from './context.ts';
import { CallCore } from './core/call-core.ts';
import { MqttBridge } from './mqtt/bridge.ts';
import { EmbeddedBroker } from './mqtt/embedded-broker.ts';
import { Listener } from './net/listener.ts';
import { UdpRelay } from './relay/relay.ts';
import { AccountStore } from './store/accounts.ts';
import { openDatabase } from './store/db.ts';
import { textHandler } from './text/connection.ts';

export interface HubDeps {
  log: Logger;
  clock?: Clock;
  /** Overrides of connection limits (tests use short idle timeouts). */
  limits?: Partial<ConnectionLimits>;
}

/**
 * The running hub: accounts, call core, relay and both dialect listeners. `start` resolves
 * once every listener is bound (the moment to tell systemd `READY=1`).
 */
export class Hub {
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly relay: UdpRelay;
  readonly textPort: number;
  readonly binaryPort: number;
  /** The embedded MQTT broker's bound port; null when MQTT is off, external or failed. */
  readonly mqttPort: number | null;
  readonly #log: Logger;
  readonly #components: Component[];
  #stopped = false;

  private constructor(parts: {
    core: CallCore;
    accounts: AccountStore;
    relay: UdpRelay;
    textPort: number;
    binaryPort: number;
    mqttPort: number | null;
    log: Logger;
    components: Component[];
  }) {
    this.core = parts.core;
    this.accounts = parts.accounts;
    this.relay = parts.relay;
    this.textPort = parts.textPort;
    this.binaryPort = parts.binaryPort;
    this.mqttPort = parts.mqttPort;
    this.#log = parts.log;
    this.#components = parts.components;
  }

  static async start(config: HubConfig, deps: HubDeps): Promise<Hub> {
    const log = deps.log;
    const clock = deps.clock ?? realClock;
    const components: Component[] = [];
    const stopAll = async () => {
      for (const c of components.reverse()) await c.stop();
    };
    try {
      const dbFile = path.join(config.data_dir, 'babel.sqlite');
      const accounts = new AccountStore(openDatabase(dbFile));
      components.push({ name: 'accounts', stop: () => accounts.close() });
      log.info({ db: dbFile, users: accounts.listUsers().length }, 'accounts open');

      const relay = new UdpRelay({ bindHost: config.host, log: log.child({ mod: 'relay' }) });
      const core = new CallCore({
        clock,
        log: log.child({ mod: 'core' }),
        ringTimeoutMs: config.ring_timeout * 1000,
        relayMode: config.relay,
        relay,
      });
      const limits: ConnectionLimits = {
        ...DEFAULT_LIMITS,
        idleTimeoutMs: config.idle_timeout * 1000,
        maxFrame: config.max_frame,
        registration: config.registration,
        ...deps.limits,
      };
      const ctx: HubContext = { core, accounts, clock, log, limits };

      // MQTT (docs/mqtt.md) starts before the listeners so it stops after them: the calls
      // they end are published, then `offline`, then the embedded broker goes.
      let mqttPort: number | null = null;
      let mqttUrl = config.mqtt.url;
      const { username, password } = config.mqtt;
      if (mqttUrl === 'embedded') {
        const broker = new EmbeddedBroker({
          host: config.mqtt.embedded_host,
          port: config.mqtt.embedded_port,
          log: log.child({ mod: 'mqtt-broker' }),
          auth: username !== undefined ? { username, password: password ?? '' } : undefined,
        });
        try {
          mqttPort = await broker.start();
          components.push({ name: 'mqtt-broker', stop: () => broker.stop() });
          mqttUrl = broker.url;
        } catch (err) {
          // Calls never depend on MQTT: run on without it.
          log.error({ err }, 'embedded mqtt broker not started; running without mqtt');
          mqttUrl = 'off';
        }
      }
      if (mqttUrl !== 'off') {
        const bridge = new MqttBridge({
          url: mqttUrl,
          baseTopic: config.mqtt.base_topic,
          username,
          password,
          clientId: config.mqtt.client_id,
          source: core,
          users: () => accounts.listUsers(),
          log: log.child({ mod: 'mqtt' }),
          clock,
        });
        bridge.start();
        components.push({ name: 'mqtt', stop: () => bridge.stop() });
      }

      // Each listener hands its sockets to its dialect's `handle(stream, peer)`.
      const maxConnections = config.max_connections;
      const text = new Listener(textHandler(ctx), {
        log: log.child({ mod: 'text-server' }),
        clock,
        maxConnections,
      });
      const textAddr = await text.listen(config.text_port, config.host);
      components.push({ name: 'text', stop: () => text.close() });

      const binary = new Listener(binaryHandler(ctx), {
        log: log.child({ mod: 'binary-server' }),
        clock,
        maxConnections,
      });
      const binaryAddr = await binary.listen(config.binary_port, config.host);
      components.push({ name: 'binary', stop: () => binary.close() });
      // Registered last so it stops first: calls end `ended` for both parties while their
      // connections are still open [interfaces: SIGTERM].
      components.push({ name: 'calls', stop: () => core.endAll() });

      log.info(
        {
          host: config.host,
          textPort: textAddr.port,
          binaryPort: binaryAddr.port,
          relay: config.relay,
        },
        'hub listening',
      );
      return new Hub({
        core,
        accounts,
        relay,
        textPort: textAddr.port,
        binaryPort: binaryAddr.port,
        mqttPort,
        log,
        components,
      });
    } catch (err) {
      await stopAll();
      throw err;
    }
  }

  /** Ends calls, closes listeners and connections, closes the database. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const c of [...this.#components].reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.#log.error({ err, component: c.name }, 'stop failed');
      }
    }
    this.#log.info('hub stopped');
  }
}
