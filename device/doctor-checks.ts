/**
 * The checks of `babel-device --doctor` (device/doctor.ts runs and prints them). Each one
 * looks, briefly and without side effects on the hub or the hardware, at one thing the
 * device needs, through the same interfaces the agent uses (hub address and trust, the
 * audio backends, the GPIO seams, the MQTT login), and says what to do when it fails.
 * None throws: every failure is a result.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type Clock, realClock } from '../shared/clock.ts';
import {
  type AudioDeps,
  createCapture,
  createPlayback,
  formatSpec,
  parseCaptureSpec,
  parsePlaybackSpec,
} from './audio/index.ts';
import type { DeviceConfig } from './config-schema.ts';
import { mqttLogin, resolveStateDir } from './credentials.ts';
import { FINGERPRINT_FILE, fingerprintOf, judge, normalizeFingerprint } from './hub/trust.ts';
import { parseHubAddress } from './hub-address.ts';
import { type GpioFactory, onoffGpio, SYSFS_GPIO, sysfsLine } from './io/gpio-base.ts';
import { brokerFor, PIN_REFUSED, PinnedTlsStream } from './mqtt-transport.ts';
import { SECRET_FILE } from './secret.ts';

export type Status = 'ok' | 'FAIL' | 'skip';

/** One line of the report: what was checked, the outcome, and what to do about a failure. */
export interface CheckResult {
  readonly status: Status;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorDeps {
  readonly log: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** How long a connection or a sound card may take (default 5000 ms). */
  readonly timeoutMs?: number;
  readonly audio?: Partial<Pick<AudioDeps, 'spawnFn' | 'alsaModule'>>;
  readonly sysfsRoot?: string;
  readonly gpioFactory?: GpioFactory;
  /** The MQTT.js seam. */
  readonly mqtt?: typeof import('mqtt');
}

const ok = (detail: string): CheckResult => ({ status: 'ok', detail });
const skip = (detail: string): CheckResult => ({ status: 'skip', detail });
const fail = (detail: string, fix: string): CheckResult => ({ status: 'FAIL', detail, fix });

/** What the hub presented: its certificate's fingerprint for a TLS link. */
export interface HubContact {
  readonly result: CheckResult;
  /** The fingerprint of the certificate the hub presented, for a TLS link that connected. */
  readonly fingerprint: string | null;
}

/** Opens a TCP (and for `tls` a TLS) connection to the hub, then closes it. */
export function checkHub(config: DeviceConfig, deps: DoctorDeps): Promise<HubContact> {
  const hub = parseHubAddress(config.hub);
  const where = `${hub.host}:${hub.port}`;
  const ms = deps.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const socket =
      hub.transport === 'tls'
        ? tls.connect({ host: hub.host, port: hub.port, rejectUnauthorized: false })
        : net.connect({ host: hub.host, port: hub.port });
    const done = (r: HubContact) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          result: fail(
            `no answer from ${where} within ${ms} ms`,
            'is the hub running and reachable from here (firewall, address)?',
          ),
          fingerprint: null,
        }),
      ms,
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({
        result: fail(
          `cannot connect to ${where} (${err.code ?? err.message})`,
          err.code === 'ECONNREFUSED'
            ? `nothing listens there: start the hub, or check --hub (the hub's ${hub.transport === 'tls' ? 'TLS port is 4342' : 'plaintext port is 4242'})`
            : 'check --hub and the network between this device and the hub',
        ),
        fingerprint: null,
      }),
    );
    if (socket instanceof tls.TLSSocket) {
      socket.once('secureConnect', () => {
        const der = socket.getPeerCertificate(true)?.raw;
        done({
          result: ok(`${where} answers in TLS`),
          fingerprint: der ? fingerprintOf(der) : null,
        });
      });
    } else {
      socket.once('connect', () =>
        done({
          result: ok(`${where} answers (plaintext: the hub is on this machine)`),
          fingerprint: null,
        }),
      );
    }
  });
}

/** [S-3] Whether the certificate the hub presented is the pinned or first-use one. */
export function checkPin(
  config: DeviceConfig,
  contact: HubContact,
  env: NodeJS.ProcessEnv,
): CheckResult {
  if (parseHubAddress(config.hub).transport !== 'tls')
    return skip('plaintext hub link: no certificate');
  if (contact.result.status !== 'ok' || contact.fingerprint === null)
    return skip('the hub did not answer');
  const presented = contact.fingerprint;
  const pin =
    config.hub_fingerprint === undefined ? null : normalizeFingerprint(config.hub_fingerprint);
  const file = path.join(resolveStateDir(config, env), FINGERPRINT_FILE);
  let recorded: string | null = null;
  if (pin === null) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      recorded = normalizeFingerprint(text);
      if (recorded === null)
        return fail(
          `${file} does not hold a fingerprint`,
          `delete it to trust the hub's certificate again, or set hub_fingerprint`,
        );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        return fail(`cannot read ${file} (${(err as Error).message})`, 'check the state directory');
    }
  }
  const v = judge(presented, pin, recorded);
  switch (v.kind) {
    case 'trusted':
      return ok(
        `${presented} matches ${v.by === 'pin' ? 'hub_fingerprint' : `the first-use record (${file})`}`,
      );
    case 'first_use':
      return skip(
        `not paired yet: the hub presents ${presented}; the device trusts it at its first connection (compare with \`babel-hub fingerprint\` on the hub, or set hub_fingerprint)`,
      );
    case 'mismatch':
      return fail(
        `the hub presents ${v.presented}, expected ${v.expected} (${v.by === 'pin' ? 'hub_fingerprint' : 'recorded on first use'})`,
        v.by === 'pin'
          ? 'if the hub really has a new certificate, set hub_fingerprint to what `babel-hub fingerprint` prints on the hub; otherwise something else answers at that address'
          : `if the hub really has a new certificate (compare with \`babel-hub fingerprint\`), delete ${file} or set hub_fingerprint`,
      );
  }
}

function audioDeps(config: DeviceConfig, deps: DoctorDeps): AudioDeps {
  return {
    log: deps.log,
    clock: deps.clock ?? realClock,
    frameSamples: config.audio.frame_ms * 48,
    ...deps.audio,
  };
}

/** Opens the microphone and waits for its first frame. */
export async function checkCapture(config: DeviceConfig, deps: DoctorDeps): Promise<CheckResult> {
  const spec = parseCaptureSpec(config.capture);
  const what = formatSpec(spec);
  const ms = deps.timeoutMs ?? 5000;
  const capture = createCapture(spec, audioDeps(config, deps));
  const seen: { error: Error | null } = { error: null };
  const first = new Promise<'frame' | 'error'>((resolve) => {
    capture.once('frame', () => resolve('frame'));
    capture.on('error', (err) => {
      seen.error ??= err;
      resolve('error');
    });
  });
  try {
    await capture.start();
  } catch (err) {
    await capture.stop().catch(() => {});
    return fail(`${what} does not open: ${(err as Error).message}`, SOUND_FIX);
  }
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    first,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]);
  clearTimeout(timer);
  await capture.stop().catch(() => {});
  if (outcome === 'frame') return ok(`${what} opens and records`);
  if (outcome === 'error') return fail(`${what} failed: ${seen.error?.message}`, SOUND_FIX);
  return fail(`${what} opened but gave no sound within ${ms} ms`, SOUND_FIX);
}

/** Opens the speaker, plays a moment of silence and closes it. */
export async function checkPlayback(config: DeviceConfig, deps: DoctorDeps): Promise<CheckResult> {
  const spec = parsePlaybackSpec(config.playback);
  const what = formatSpec(spec);
  const a = audioDeps(config, deps);
  const playback = createPlayback(spec, a);
  const seen: { error: Error | null } = { error: null };
  playback.on('error', (err) => {
    seen.error ??= err;
  });
  try {
    await playback.start();
  } catch (err) {
    await playback.stop().catch(() => {});
    return fail(`${what} does not open: ${(err as Error).message}`, SOUND_FIX);
  }
  const silence = Buffer.alloc(a.frameSamples * 2);
  for (let i = 0; i < 10; i++) playback.write(silence);
  // A player that cannot open its card exits at once; give it the time to say so.
  await new Promise((r) => setTimeout(r, Math.min(1000, deps.timeoutMs ?? 5000)));
  await playback.stop().catch(() => {});
  if (seen.error) return fail(`${what} failed: ${seen.error.message}`, SOUND_FIX);
  return ok(`${what} opens and plays`);
}

const SOUND_FIX =
  '`babel-device --list-audio` lists the sound cards; set --capture / --playback to one of them (docs/audio.md)';

/** Every GPIO line the config uses: buttons, LED, door relay and door button. */
function gpioSpecs(config: DeviceConfig): Array<{ use: string; spec: string }> {
  const all = [
    ...config.button.map((spec) => ({ use: 'button', spec })),
    ...(config.led ? [{ use: 'led', spec: config.led }] : []),
    ...(config.door.relay ? [{ use: 'door relay', spec: config.door.relay }] : []),
    ...(config.door.button ? [{ use: 'door button', spec: config.door.button }] : []),
  ];
  return all.filter((s) => s.spec.startsWith('gpio:'));
}

/**
 * Each GPIO line is on the header chip, not taken by another program (exported in sysfs:
 * a running babel-device holds its lines), and opens; each is released again at once.
 */
export function checkGpio(config: DeviceConfig, deps: DoctorDeps): CheckResult {
  const specs = gpioSpecs(config);
  if (specs.length === 0) return skip('no GPIO lines configured');
  const root = deps.sysfsRoot ?? SYSFS_GPIO;
  const make = deps.gpioFactory ?? onoffGpio;
  const problems: string[] = [];
  for (const { use, spec } of specs) {
    const bcm = Number(spec.split(':')[1]);
    let line: number;
    try {
      line = sysfsLine(bcm, root);
    } catch (err) {
      problems.push(`${use} ${spec}: ${(err as Error).message}`);
      continue;
    }
    if (fs.existsSync(path.join(root, `gpio${line}`))) {
      problems.push(`${use} ${spec}: line ${line} is in use (exported) by another program`);
      continue;
    }
    try {
      const gpio = make(line, 'in', 'none', {});
      gpio.unexport();
    } catch (err) {
      problems.push(`${use} ${spec}: cannot open line ${line} (${(err as Error).message})`);
    }
  }
  const list = specs.map((s) => s.spec).join(', ');
  if (problems.length === 0) return ok(`${list} free`);
  return fail(
    problems.join('; '),
    'stop whatever holds the line (a running babel-device: `sudo systemctl stop babel-device`; a line left exported by a program that died: `echo LINE | sudo tee /sys/class/gpio/unexport`), run as a user in the gpio group, and check the BCM numbers (`babel-device --list-buttons`)',
  );
}

/** The secret as the agent would find it, without making one. */
function knownSecret(config: DeviceConfig, env: NodeJS.ProcessEnv): string | null {
  if (config.secret !== undefined) return config.secret;
  try {
    const text = fs.readFileSync(path.join(resolveStateDir(config, env), SECRET_FILE), 'utf8');
    return text.trim();
  } catch {
    return null;
  }
}

/** [S-9] Logs in to the broker as the device does, and out again. */
export async function checkMqtt(config: DeviceConfig, deps: DoctorDeps): Promise<CheckResult> {
  if (config.mqtt.url === 'off') return skip('MQTT is off (mqtt.url: off)');
  const secret = knownSecret(config, deps.env);
  const login = mqttLogin(config.mqtt, config.name, secret ?? '');
  if (config.mqtt.username === undefined && secret === null && config.mqtt.password === undefined) {
    return skip('no secret yet: the device makes one at its first start and logs in with it');
  }
  const target = brokerFor(config, { env: deps.env, log: deps.log });
  const paired =
    config.hub_fingerprint !== undefined ||
    fs.existsSync(path.join(resolveStateDir(config, deps.env), FINGERPRINT_FILE));
  if (target.tls && !paired) {
    return skip(
      `not paired with the hub yet: ${target.url} is judged by the hub's pin, which the device records at its first start; MQTT logs in after`,
    );
  }
  const m = deps.mqtt ?? (await import('mqtt'));
  const ms = deps.timeoutMs ?? 5000;
  const opts: IClientOptions = {
    clientId: `babel-doctor-${config.name}-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
    connectTimeout: ms,
    username: login.username,
    ...(login.password !== undefined ? { password: login.password } : {}),
  };
  const pinned = target.tls;
  const client: MqttClient = pinned
    ? new m.default.MqttClient(() => new PinnedTlsStream(pinned), opts)
    : m.default.connect(target.url, opts);
  const outcome = await new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(
      () => resolve(fail(`no answer from the broker at ${target.url} within ${ms} ms`, MQTT_REACH)),
      ms + 500,
    );
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      resolve(r);
    };
    client.once('connect', () => done(ok(`logged in to ${target.url} as ${login.username}`)));
    client.once('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5)
        done(
          fail(
            `the broker at ${target.url} refused the login ${login.username} (${err.message})`,
            'on the hub this device logs in with its name and secret: is it a user there (`babel-hub user list`), with this secret? Or set mqtt.username / mqtt.password',
          ),
        );
      else if (code === PIN_REFUSED)
        done(
          fail(
            `the broker at ${target.url} is not the hub this device is paired with (${err.message})`,
            'the TLS broker is judged by the hub pin: fix the hub link first (TLS pin above)',
          ),
        );
      else done(fail(`cannot log in to ${target.url}: ${err.message}`, MQTT_REACH));
    });
    client.once('close', () =>
      done(fail(`the broker at ${target.url} closed the connection`, MQTT_REACH)),
    );
  });
  await client.endAsync(true).catch(() => {});
  return outcome;
}

const MQTT_REACH =
  'is the broker running (the hub with mqtt: embedded), and TCP 8883 (TLS) or 1883 open to it? mqtt.url: off turns MQTT off';
