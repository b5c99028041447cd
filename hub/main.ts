import path from 'node:path';
import type { Logger } from 'pino';
import { type Clock, realClock } from '../shared/clock.ts';
import type { Component } from '../shared/component.ts';
import { binaryHandler } from './binary/connection.ts';
import type { HubConfig } from './config-schema.ts';
import { buildContext, type ConnectionLimits } from './context.ts';
import { ControlServer } from './control/server.ts';
import type { CallCore } from './core/call-core.ts';
import { groupControl } from './group-command.ts';
import { type RunningWeb, startWeb } from './http/start.ts';
import { HubObserver, type HubStatus } from './metrics/hub-observer.ts';
import { MeasuredCallCore } from './metrics/measured-core.ts';
import { MqttBridge } from './mqtt/bridge.ts';
import { embeddedAccess } from './mqtt/embedded-access.ts';
import { EmbeddedBroker } from './mqtt/embedded-broker.ts';
import { homeAssistantOptions } from './mqtt/ha-options.ts';
import { mqttPlaintextHost } from './mqtt/plain-host.ts';
import type { Handle } from './net/address.ts';
import { ConnectionCap, Listener } from './net/listener.ts';
import { serverContext } from './net/tls.ts';
import { UdpRelay } from './relay/relay.ts';
import type { Access } from './security/access.ts';
import { lenientSettings } from './security/lenient.ts';
import { AccountStore } from './store/accounts.ts';
import { openDatabase } from './store/db.ts';
import { textHandler } from './text/connection.ts';
import { loadIdentity, type RunOpenssl } from './tls/identity.ts';
import { userControl } from './user-control.ts';

export type { HubStatus } from './metrics/hub-observer.ts';

export interface HubDeps {
  log: Logger;
  clock?: Clock;
  /** Overrides of connection limits (tests use short idle timeouts). */
  limits?: Partial<ConnectionLimits>;
  /** How the identity's certificate is made on first start [S-2] (tests make it fail). */
  openssl?: RunOpenssl;
}

/** [S-1] Where the plaintext listeners bind: loopback by default, `host` with `all`. */
export function plaintextHost(config: HubConfig): string | null {
  if (config.plaintext === 'off') return null;
  return config.plaintext === 'all' ? config.host : '127.0.0.1';
}

/**
 * The running hub: accounts, call core, relay and both dialect listeners. `start` resolves
 * once every listener is bound (the moment to tell systemd `READY=1`).
 */
export class Hub {
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly relay: UdpRelay;
  /** [S-6..S-8] Registration, pairing window, login throttle, pre-login caps. */
  readonly access: Access;
  /** The plaintext listeners' bound ports; 0 with `plaintext: off`. */
  readonly textPort: number;
  readonly binaryPort: number;
  /** [S-1] The TLS listeners' bound ports; 0 when the port was taken (logged at error). */
  readonly textTlsPort: number;
  readonly binaryTlsPort: number;
  /** [S-2] `sha256:<hex>` of the hub's certificate. */
  readonly fingerprint: string;
  /** The embedded MQTT broker's bound plaintext port; null when MQTT is off, external or failed, or with `plaintext: off`. */
  readonly mqttPort: number | null;
  /** [S-9, extension] Its TLS port; null as above, or when that port was taken (logged). */
  readonly mqttTlsPort: number | null;
  /** The web page's bound port (docs/web.md); 0 when off or its port was taken. */
  readonly httpPort: number;
  /** What `babel-hub status` and the page say about the running hub. */
  readonly status: () => HubStatus;
  readonly #log: Logger;
  readonly #components: Component[];
  readonly #cap: ConnectionCap;
  #stopped = false;

  private constructor(parts: {
    core: CallCore;
    accounts: AccountStore;
    relay: UdpRelay;
    access: Access;
    textPort: number;
    binaryPort: number;
    textTlsPort: number;
    binaryTlsPort: number;
    fingerprint: string;
    mqttPort: number | null;
    mqttTlsPort: number | null;
    httpPort: number;
    status: () => HubStatus;
    log: Logger;
    components: Component[];
    cap: ConnectionCap;
  }) {
    this.core = parts.core;
    this.accounts = parts.accounts;
    this.relay = parts.relay;
    this.access = parts.access;
    this.textPort = parts.textPort;
    this.binaryPort = parts.binaryPort;
    this.textTlsPort = parts.textTlsPort;
    this.binaryTlsPort = parts.binaryTlsPort;
    this.fingerprint = parts.fingerprint;
    this.mqttPort = parts.mqttPort;
    this.mqttTlsPort = parts.mqttTlsPort;
    this.httpPort = parts.httpPort;
    this.status = parts.status;
    this.#log = parts.log;
    this.#components = parts.components;
    this.#cap = parts.cap;
  }

  /** Connections open now, every listener together (TLS ones counted once accepted). */
  get connections(): number {
    return this.#cap.open;
  }

  static async start(config: HubConfig, deps: HubDeps): Promise<Hub> {
    const log = deps.log;
    const clock = deps.clock ?? realClock;
    const components: Component[] = [];
    const stopAll = async () => {
      for (const c of components.reverse()) await c.stop();
    };
    // [S-11] every lenient setting in force, once at start
    for (const l of lenientSettings(config)) log.warn({ setting: l.setting }, l.message);
    try {
      // [S-2] before anything binds: a hub without its identity does not start
      const identity = await loadIdentity(config, deps.openssl);
      log.info(
        { fingerprint: identity.fingerprint, cert: identity.certPath },
        identity.created ? 'hub identity created' : 'hub identity',
      );
      const dbFile = path.join(config.data_dir, 'babel.sqlite');
      const accounts = new AccountStore(openDatabase(dbFile));
      components.push({ name: 'accounts', stop: () => accounts.close() });
      log.info({ db: dbFile, users: accounts.listUsers().length }, 'accounts open');

      const relay = new UdpRelay({ bindHost: config.host, log: log.child({ mod: 'relay' }) });
      let observer: HubObserver | null = null;
      const core: CallCore = new MeasuredCallCore(
        {
          clock,
          log: log.child({ mod: 'core' }),
          ringTimeoutMs: config.ring_timeout * 1000,
          relayMode: config.relay,
          relay,
        },
        (ms) => observer?.metrics.callSetup(ms),
      );
      const cap = new ConnectionCap(config.max_connections);
      const ctx = buildContext({ config, core, accounts, clock, log, limits: deps.limits });
      const { access } = ctx;
      // The web page's view and the metrics (docs/web.md) watch from the start.
      const seen = new HubObserver({ config, clock, core, accounts, access, relay });
      observer = seen;
      const status = () => seen.status();

      // The control socket of `babel-hub pair` (and other subcommands that need the
      // running hub); it also keeps a second hub off this data directory.
      const groupHandler = groupControl(accounts.groups, core, log.child({ mod: 'group' }));
      const control = new ControlServer(
        config.data_dir,
        {
          pair: (req) => {
            const minutes = req.minutes === undefined ? 10 : Number(req.minutes);
            access.pairing.open(minutes); // [S-6]
            return { state: access.pairing.state, until: access.pairing.untilWallMs };
          },
          status: () => ({ ...status() }),
          group: groupHandler, // [G-1]
          user: userControl(accounts, log.child({ mod: 'admin' })), // `babel-hub user remove`
          stats: () => ({
            passwordChecks: accounts.passwordChecks,
            preLogin: { pending: access.gate.pending, refused: access.gate.refused },
            connections: { open: cap.open, refused: cap.refused },
            calls: { ...core.stats }, // [G-1..G-3] group calls, pages, relay fallbacks
          }),
        },
        log.child({ mod: 'control' }),
      );
      await control.start();
      components.push({ name: 'control', stop: () => control.stop() });

      // The status page and /metrics (docs/web.md), before MQTT: its first start (an scrypt
      // hash for the admin login) then does not lengthen the time from MQTT's `online` to
      // the hub being up and taking SIGTERM.
      const web: RunningWeb | null = await startWeb({
        config,
        clock,
        log: log.child({ mod: 'http' }),
        accounts,
        access,
        view: seen.view,
        metrics: seen.metrics,
        status,
        group: groupHandler,
        identity, // [S-2] the page's HTTPS side
        deadlineMs: ctx.limits.loginDeadlineMs, // [S-8]
      });
      if (web) components.push({ name: 'http', stop: () => web.stop() });
      seen.ports.http = web?.port ?? null;
      seen.web = web?.urls ?? null;

      // MQTT (docs/mqtt.md) starts before the listeners so it stops after them: the calls
      // they end are published, then `offline`, then the embedded broker goes.
      let mqttPort: number | null = null;
      let mqttTlsPort: number | null = null;
      let mqttUrl = config.mqtt.url;
      let { username, password } = config.mqtt;
      // The embedded broker links the hub's own clients in process, whatever `plaintext` is.
      let connectFn: EmbeddedBroker['connectLocal'] | undefined;
      if (mqttUrl === 'embedded') {
        try {
          // [S-9] Device logins share the dialects' throttle [S-7]: MQTT is no side door.
          const mqttLogins = embeddedAccess(config, { accounts, clock, throttle: access.throttle });
          ({ username, password } = mqttLogins.bridge);
          const broker = new EmbeddedBroker({
            host: config.mqtt.embedded_host,
            port: config.mqtt.embedded_port,
            // [S-9, extension; S-1] 1883 on loopback unless `plaintext: all`; none with `off`
            plaintextHost: mqttPlaintextHost(config.plaintext, config.mqtt.embedded_host),
            log: log.child({ mod: 'mqtt-broker' }),
            access: mqttLogins.access,
            // [S-9, extension] the devices' port, in TLS with the hub's identity [S-2]
            tls: { port: config.mqtt.embedded_tls_port, identity },
          });
          const plainPort = await broker.start();
          mqttPort = plainPort === 0 ? null : plainPort; // none with `plaintext: off`
          mqttTlsPort = broker.tlsPort;
          components.push({ name: 'mqtt-broker', stop: () => broker.stop() });
          mqttUrl = broker.url;
          connectFn = broker.connectLocal;
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
          groups: () => accounts.groups.list(), // [G-1, G-2] groups in Home Assistant
          log: log.child({ mod: 'mqtt' }),
          clock,
          // Home Assistant: discovery on/off and prefix, hub id, version
          ...homeAssistantOptions(config),
          ...(connectFn ? { connectFn } : {}),
        });
        bridge.start();
        accounts.groups.onChange(() => bridge.groupsChanged());
        components.push({ name: 'mqtt', stop: () => bridge.stop() });
        // [S-6] retained `<base>/bridge/pairing`
        bridge.pairing(access.pairing.state);
        access.onPairing((state) => bridge.pairing(state));
        // the devices' call statistics and door events, for the page and /metrics
        const stopFeed = seen.watchDevices(
          mqttUrl,
          { username, password },
          log.child({ mod: 'device-feed' }),
          connectFn,
        );
        components.push({ name: 'device-feed', stop: stopFeed });
      }
      seen.ports.mqtt = mqttPort;
      seen.ports.mqtt_tls = mqttTlsPort;

      // A window still open at stop is closed while the bridge can still say so.
      components.push({ name: 'pairing', stop: () => access.pairing.close() });

      // Each listener hands its sockets to its dialect's `handle(stream, peer)`; they all
      // share one cap on connections [S-8: max_connections, both dialects together].
      // [S-1] TLS listeners on `host`; plaintext ones on loopback unless `plaintext` says.
      const tls = serverContext(identity);
      const listen = async (
        name: string,
        handle: Handle,
        port: number,
        host: string,
        secure: boolean,
      ) => {
        const counted = seen.counted(name, handle, secure);
        const listener = new Listener(counted, {
          log: log.child({ mod: `${name}-server` }),
          clock,
          cap,
          ...(secure ? { tls } : {}),
        });
        const addr = await listener.listen(port, host);
        components.push({ name, stop: () => listener.close() });
        log.info({ listener: name, address: addr.address, port: addr.port }, 'listening');
        seen.ports[name] = addr.port;
        return addr.port;
      };
      const text = textHandler(ctx);
      const binary = binaryHandler(ctx);
      const plainHost = plaintextHost(config);
      // (decision) A TLS port already taken (a second hub on this machine) does not keep
      // the plaintext listeners of the seeds' clients from serving: logged at error, the
      // hub runs on without it. With plaintext off there is nothing else to serve.
      const listenTls = async (name: string, handle: Handle, port: number) => {
        try {
          return await listen(name, handle, port, config.host, true);
        } catch (err) {
          if (plainHost === null || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
            throw err;
          }
          log.error({ err, listener: name, port }, 'TLS port in use; running without it');
          return 0;
        }
      };
      const textTlsPort = await listenTls('text-tls', text, config.text_tls_port);
      const binaryTlsPort = await listenTls('binary-tls', binary, config.binary_tls_port);
      const textPort =
        plainHost === null ? 0 : await listen('text', text, config.text_port, plainHost, false);
      const binaryPort =
        plainHost === null
          ? 0
          : await listen('binary', binary, config.binary_port, plainHost, false);
      // Registered last so it stops first: calls end `ended` for both parties while their
      // connections are still open [interfaces: SIGTERM].
      components.push({ name: 'calls', stop: () => core.endAll() });

      log.info(
        {
          host: config.host,
          textTlsPort,
          binaryTlsPort,
          plaintext: plainHost ?? 'off',
          textPort,
          binaryPort,
          relay: config.relay,
        },
        'hub listening',
      );
      return new Hub({
        core,
        accounts,
        relay,
        access,
        textPort,
        binaryPort,
        textTlsPort,
        binaryTlsPort,
        fingerprint: identity.fingerprint,
        mqttPort,
        mqttTlsPort,
        httpPort: web?.port ?? 0,
        status,
        log,
        components,
        cap,
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
