import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { type Clock, realClock } from '../shared/clock.ts';
import type { Component } from '../shared/component.ts';
import type { AlsaModule, SpawnFn } from './audio/index.ts';
import { startButtons } from './buttons.ts';
import {
  type Effect,
  type Input,
  initialMachine,
  type Machine,
  type MachineOptions,
  step,
} from './call/machine.ts';
import type { DeviceConfig } from './config-schema.ts';
import { deviceSecret, mqttLogin } from './credentials.ts';
import { DoorStation } from './door.ts';
import type { HubClient } from './hub/client.ts';
import { hubClientFor } from './hub/link.ts';
import type { SerialFactory } from './io/button-serial.ts';
import type { GpioFactory } from './io/gpio-base.ts';
import { createOutput, DoorRelay, Led, type Output } from './io/outputs.ts';
import { warnLenient } from './lenient.ts';
import type { DtmfKey } from './media/dtmf.ts';
import type { EngineModule } from './media/native-session.ts';
import type { MediaStats } from './media/pipeline.ts';
import { chooseMediaEngine, createDeviceMedia, type DeviceMedia } from './media-setup.ts';
import { DeviceMqtt } from './mqtt.ts';
import { brokerFor } from './mqtt-transport.ts';
import { DeviceSound } from './sound.ts';

/** Hardware and time seams; the defaults are the real thing. */
export interface AgentDeps {
  log: Logger;
  clock?: Clock;
  spawnFn?: SpawnFn;
  alsaModule?: AlsaModule;
  gpioFactory?: GpioFactory;
  /** Where GPIO chips are looked up (default /sys/class/gpio); a fake tree in tests. */
  sysfsRoot?: string;
  serialFactory?: SerialFactory;
  stdin?: Readable;
  /** Called for each human-readable life-cycle line (the demo prints them). */
  narrate?: (text: string) => void;
  /** Where `$STATE_DIRECTORY` is read; the default is this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** The babel-media addon's loader (`audio.engine`); tests pass one that throws. */
  loadEngine?: () => EngineModule;
}

/**
 * The device agent: one button, a microphone, a speaker and a link to the hub. It feeds
 * the pure call machine (device/call/machine.ts) with button presses, hub lines and MQTT
 * commands, and carries out the machine's effects: requests to the hub, the media
 * session, tones and the LED. It never exits because the hub, the network or a sound card
 * misbehaved: each of those reconnects or retries by itself.
 */
export class DeviceAgent {
  readonly #config: DeviceConfig;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #narrate: (text: string) => void;
  #options: MachineOptions;
  readonly #components: Component[] = [];
  #machine: Machine;
  #media!: DeviceMedia;
  #hub!: HubClient;
  #sound!: DeviceSound;
  #led: Led | null = null;
  #relay: DoorRelay | null = null;
  #door!: DoorStation;
  #mqtt: DeviceMqtt | null = null;
  /** [S-6] The secret this device logs in with (configured or generated), never logged. */
  #secret = '';
  /** Whether the call in progress (or being set up) was placed by this unit [S-10]. */
  #placedHere = false;
  #stopped = false;
  /** [G-3] Calls moved to the hub's relay since start (MQTT stats `relay_fallbacks`). */
  #fallbacks = 0;

  private constructor(config: DeviceConfig, deps: AgentDeps) {
    this.#config = config;
    this.#log = deps.log;
    this.#clock = deps.clock ?? realClock;
    this.#narrate = deps.narrate ?? (() => {});
    this.#options = {
      target: config.target ?? null,
      autoAnswer: config.auto_answer,
      doNotDisturb: config.do_not_disturb,
    };
    this.#machine = initialMachine(this.#clock.now());
  }

  /** Starts every part; rejects (after releasing what started) only on a local problem. */
  static async start(config: DeviceConfig, deps: AgentDeps): Promise<DeviceAgent> {
    const agent = new DeviceAgent(config, deps);
    try {
      await agent.#start(deps);
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  get machine(): Machine {
    return this.#machine;
  }

  get mediaPort(): number {
    return this.#media.port;
  }

  /** [G-3] Calls moved to the hub's relay since start. */
  get relayFallbacks(): number {
    return this.#fallbacks;
  }

  /** The running call leg's media statistics, or `null` between calls. */
  get mediaStats(): MediaStats | null {
    return this.#media.stats();
  }

  /** Feeds one input to the call machine and carries out its effects. */
  input(input: Input): void {
    if (this.#stopped) return;
    const before = this.#machine.state;
    const { machine, effects } = step(this.#machine, input, this.#clock.now(), this.#options);
    this.#machine = machine;
    if (before === 'idle' && machine.state !== 'idle')
      this.#placedHere = machine.state === 'calling';
    for (const e of effects) this.#apply(e);
    if (machine.state !== before) {
      this.#log.info({ state: machine.state, peer: machine.peer }, 'call state');
      // [G-2] A pager's microphone is open too; a paged member's stays closed.
      void this.#sound.micFor(machine.state === 'in_call' || machine.state === 'paging');
    }
  }

  /** The door station: every attempt to open the door goes through it [S-10]. */
  get door(): DoorStation {
    return this.#door;
  }

  /** Sends the door key to the peer during a call (the flat's second button). */
  sendDoorKey(): void {
    if (this.#machine.state !== 'in_call') return;
    this.#media.pressKey(this.#config.door.key as DtmfKey);
    this.#say(`sent the door key ${this.#config.door.key} to ${this.#machine.peer}`);
  }

  /** Stops everything in reverse order; a call in progress is hung up first. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    if (this.#machine.state !== 'idle' && this.#machine.peer) {
      this.#hub?.send('HANGUP', this.#machine.peer);
    }
    this.#stopped = true;
    for (const c of this.#components.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.#log.warn({ err, component: c.name }, 'stop failed');
      }
    }
  }

  async #start(deps: AgentDeps): Promise<void> {
    const config = this.#config;
    const log = this.#log;
    this.#secret = deviceSecret(config, log, deps.env ?? process.env).secret;
    warnLenient(config, log);
    const audioDeps = {
      log,
      clock: this.#clock,
      ...(deps.spawnFn ? { spawnFn: deps.spawnFn } : {}),
      ...(deps.alsaModule ? { alsaModule: deps.alsaModule } : {}),
    };
    const onFrame = (pcm: Buffer) => this.#media.sendFrame(pcm);
    // Before the microphone: the native loop reads it on its own thread (issue 15).
    const engine = chooseMediaEngine(config, log, this.#clock, deps.loadEngine);
    const micInEngine = engine.kind === 'native';
    this.#sound = await DeviceSound.start(config, audioDeps, onFrame, this.#components, {
      micInEngine,
    });
    this.#media = createDeviceMedia(config, engine, {
      log: log.child({ mod: 'media' }),
      clock: this.#clock,
      port: config.media_port,
      sink: this.#sound.speaker,
      speakerPipe: (listener) => this.#sound.speakerPipe(listener),
    });
    await this.#media.open();
    this.#components.push({ name: 'media', stop: () => this.#media.close() });
    this.#media.on('dtmf', (key) => {
      this.#log.info({ key }, 'key from the peer');
      // A unit without a relay is not a door station: its keys open nothing.
      if (key !== config.door.key || !this.#relay) return;
      // [S-10] only in a call this unit placed, or from a peer in door.from
      const inCall = this.#machine.state === 'in_call';
      this.#door.dtmf(inCall ? this.#machine.peer : null, this.#placedHere);
    });
    this.#media.on('stats', (s) => {
      this.#mqtt?.publishStats(s);
      this.#log.trace({ stats: summary(s) }, 'media stats');
    });
    this.#media.on('silent', () => this.input({ kind: 'media_silent' })); // [G-3]

    this.#startOutputs(deps);
    this.#door = new DoorStation({
      relay: this.#relay,
      from: config.door.from,
      key: config.door.key,
      log: log.child({ mod: 'door' }),
      publish: (event) => this.#mqtt?.publishDoor(event),
      say: (text) => this.#say(text),
    });
    this.#components.push(
      ...startButtons(config, deps, {
        clock: this.#clock,
        log,
        input: (input) => this.input(input),
        doorKey: () => this.sendDoorKey(),
      }),
    );
    this.#startMqtt(deps.env ?? process.env);

    this.#hub = hubClientFor(config, {
      secret: this.#secret,
      // [T-9] the port we receive on; 0 would ask the hub to relay.
      mediaPort: this.#media.port,
      clock: this.#clock,
      log: log.child({ mod: 'hub' }),
      env: deps.env ?? process.env,
    });
    this.#hub.on('online', () => {
      // [S-9] The hub has just taken this device's name and secret, which are also its
      // MQTT login: a login refused before (its account did not exist yet) is retried now.
      this.#mqtt?.retryRefusedLogin();
      if (this.#options.doNotDisturb) this.#hub.send('DND', 'on');
      this.#say(`connected to the hub as ${config.name}`);
      this.input({ kind: 'online' });
    });
    this.#hub.on('offline', (reason) => {
      this.#say(`lost the hub (${reason}); reconnecting`);
      this.input({ kind: 'offline' });
    });
    this.#hub.on('call', (event) => this.input({ kind: 'hub', event }));
    this.#hub.start();
    this.#components.push({ name: 'hub', stop: () => this.#hub.stop() });
    this.#apply({ kind: 'led', pattern: 'fast_blink' });
  }

  #startOutputs(deps: AgentDeps): void {
    const gpio = (spec: string): Output =>
      createOutput(spec, { ...deps, clock: this.#clock, log: this.#log });
    if (this.#config.led) {
      const out = gpio(this.#config.led);
      this.#led = new Led(out, this.#clock);
      this.#components.push({ name: 'led', stop: () => this.#led?.play('off') });
      this.#components.push({ name: 'led-gpio', stop: () => out.close() });
    }
    if (this.#config.door.relay) {
      const out = gpio(this.#config.door.relay);
      this.#relay = new DoorRelay(out, this.#clock, {
        pulseMs: this.#config.door.pulse_ms,
        log: this.#log.child({ mod: 'door' }),
        onHealth: (working) => this.#mqtt?.setDoor(working),
      });
      this.#components.push({ name: 'relay', stop: () => this.#relay?.close() });
    }
  }

  #startMqtt(env: NodeJS.ProcessEnv): void {
    const c = this.#config.mqtt;
    if (c.url === 'off') return;
    const log = this.#log.child({ mod: 'mqtt' });
    this.#mqtt = new DeviceMqtt({
      ...brokerFor(this.#config, { env, log }), // [S-9, extension] TLS with the hub's pin
      baseTopic: c.base_topic,
      name: this.#config.name,
      door: this.#relay?.working ?? false,
      volume: this.#sound.echo.speakerVolume,
      dnd: this.#options.doNotDisturb,
      ...(this.#options.target ? { target: this.#options.target } : {}),
      log,
      ...mqttLogin(c, this.#config.name, this.#secret),
      onCommand: (cmd) => {
        if (cmd.action === 'door') this.#door.mqtt();
        else if (cmd.action === 'volume') {
          this.#sound.echo.setSpeakerVolume(cmd.value); // at once, and announced back
          // The native loop plays a call's frames itself, with its own volume.
          if ('setSpeakerVolume' in this.#media)
            this.#media.setSpeakerVolume(this.#sound.echo.speakerVolume);
          this.#mqtt?.setVolume(this.#sound.echo.speakerVolume);
        } else if (cmd.action === 'dnd') this.#setDnd(cmd.value);
        else if (cmd.action === 'call' || cmd.action === 'page')
          this.input({ kind: 'command', action: cmd.action, target: cmd.target }); // [G-2]
        else this.input({ kind: 'command', action: cmd.action });
      },
    });
    this.#mqtt.start();
    this.#components.push({ name: 'mqtt', stop: () => this.#mqtt?.stop() });
  }

  /** Do not disturb from Home Assistant (extension): the machine, the hub, announced back. */
  #setDnd(on: boolean): void {
    this.#options = { ...this.#options, doNotDisturb: on };
    if (this.#machine.online) this.#hub.send('DND', on ? 'on' : 'off');
    this.#mqtt?.setDnd(on);
    this.#say(`do not disturb ${on ? 'on' : 'off'}`);
  }

  #apply(e: Effect): void {
    switch (e.kind) {
      case 'send':
        this.#hub.send(e.verb, e.arg);
        return;
      case 'media_start':
        if (e.moved) {
          // [G-3] The call goes on through the hub's relay, with this leg's new keys.
          this.#fallbacks++;
          this.#mqtt?.setRelayFallbacks(this.#fallbacks);
          this.#log.info(
            { peer: this.#machine.peer, fallbacks: this.#fallbacks },
            'call media moved to the hub relay',
          );
        }
        this.#media.start({ ip: e.ip, port: e.port }, e.srtp, e.direction); // [S-4, G-2]
        return;
      case 'media_stop': {
        const stats = this.#media.stop();
        if (stats) this.#log.info({ stats: summary(stats) }, 'call media');
        return;
      }
      case 'tone':
        this.#sound.tones.play(e.tone);
        return;
      case 'led':
        this.#led?.play(e.pattern);
        return;
      case 'notice':
        this.#say(e.text);
        return;
    }
  }

  #say(text: string): void {
    this.#log.info({ event: text }, 'intercom');
    this.#narrate(`${this.#config.name}: ${text}`);
  }
}

/** The figures of a call worth one log line. */
function summary(s: MediaStats) {
  return {
    received: s.received,
    lost: s.lost,
    srtp: s.srtp,
    srtpAuthFailed: s.srtpAuthFailed,
    srtpReplayed: s.srtpReplayed,
    late: s.late,
    concealed: s.concealed,
    jitterMs: Math.round(s.jitterMs * 10) / 10,
    depthMs: s.depthMs,
  };
}
