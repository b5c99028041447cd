/**
 * The device agent's configuration: one TypeBox schema from which come the `DeviceConfig`
 * type, defaults, validation, `BABEL_DEVICE_*` environment variables and `--help`.
 *
 * ```yaml
 * version: 1
 * name: door
 * hub: hub.local            # TLS to 4342 [S-3]; tcp://HOST or a loopback HOST: plaintext 4242
 * hub_fingerprint: sha256:0f1e...  # optional pin; else trust on first use
 * secret: change-me
 * capture: alsa:plughw:CARD=Device,DEV=0
 * playback: aplay:plughw:CARD=Device,DEV=0
 * button: [gpio:17]
 * target: kitchen
 * led: gpio:27
 * door:
 *   relay: gpio:22
 *   pulse_ms: 3000
 * ```
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { type Static, Type } from '@sinclair/typebox';
import { NAME_PATTERN, normalizeName } from '../protocol/names.ts';
import { ConfigError } from '../shared/config/errors.ts';
import {
  type ConfigSpec,
  type FlagTable,
  type LoadResult,
  loadConfig,
  oneOf,
} from '../shared/config/load.ts';
import { LOG_LEVELS } from '../shared/log.ts';
import { checkDeviceConfig } from './config-checks.ts';
import { HUB_ADDRESS_FORMS, hubAddressProblem } from './hub-address.ts';

export const DEVICE_CONFIG_VERSION = 1;

/** The default name: this machine's host name when it is a valid name [T-4], else `device`. */
export const DEFAULT_DEVICE_NAME = normalizeName(os.hostname()) ?? 'device';

const namePattern = NAME_PATTERN.source;
/** The forms of device/hub-address.ts; the port range is checked after (`hubAddressProblem`). */
const HUB_PATTERN = '^((tls|tcp)://)?(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9._-]+)(:\\d{1,5})?$';
/** `sha256:` and 64 hex digits, or the same as colon-separated pairs (`openssl x509 -fingerprint`). */
const FINGERPRINT_PATTERN = '^sha256:([0-9a-fA-F]{64}|([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2})$';
/** An output (LED, relay): a header pin, or `fake`, the shipped in-memory output. */
const OUTPUT_PATTERN = '^gpio:\\d{1,3}(:active_low)?$|^fake$';

export const DeviceConfigSchema = Type.Object(
  {
    version: Type.Literal(DEVICE_CONFIG_VERSION, {
      default: DEVICE_CONFIG_VERSION,
      description: 'config file format version',
    }),
    name: Type.String({
      pattern: namePattern,
      default: DEFAULT_DEVICE_NAME,
      description: "this device's user name on the hub (lowercase a-z 0-9 . _ -)",
      errorMessage: 'must be 1-32 of a-z 0-9 . _ - starting with a letter or digit',
    }),
    hub: Type.String({
      pattern: HUB_PATTERN,
      default: '127.0.0.1:4242',
      description:
        'the hub: HOST[:PORT] (TLS, port 4342; plaintext 4242 for a loopback HOST), tls://HOST[:PORT] or tcp://HOST[:PORT]',
      errorMessage: HUB_ADDRESS_FORMS,
    }),
    // [S-3] the hub's certificate pin; without it the first TLS connection records one.
    hub_fingerprint: Type.Optional(
      Type.String({
        pattern: FINGERPRINT_PATTERN,
        description:
          "the hub's certificate, as `babel-hub fingerprint` prints it on the hub (sha256:HEX); unset: trust on first use",
        errorMessage: 'must be sha256: and 64 hex digits, as `babel-hub fingerprint` prints it',
      }),
    ),
    secret: Type.Optional(
      Type.String({ minLength: 1, description: "the secret of this device's account" }),
    ),
    auto_create: Type.Boolean({
      default: true,
      description:
        'create the account on the hub if it does not exist (needs registration open or a pairing window)',
    }),
    state_dir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "where the device keeps its generated secret (default: systemd's $STATE_DIRECTORY, else ./data/device-<name>)",
      }),
    ),
    media_port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 5004,
      description:
        'UDP port for call audio, sent and received (0: any free port, media relayed by the hub)',
    }),
    capture: Type.String({
      pattern: '^(alsa|arecord|file|fake-alsa):.+$|^tone:\\d+(\\.\\d+)?$|^silence$',
      default: 'alsa:default',
      description: 'microphone: alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ, silence',
      errorMessage: 'must be alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ or silence',
    }),
    playback: Type.String({
      pattern: '^(aplay|file):.+$|^null$',
      default: 'aplay:default',
      description: 'speaker: aplay:PCM, file:PATH.wav, null',
      errorMessage: 'must be aplay:PCM, file:PATH.wav or null',
      yamlNull: 'null', // `playback: null` in YAML is the null speaker, not the default
    }),
    button: Type.Array(
      Type.String({
        pattern:
          '^(gpio:\\d{1,3}(:active_low)?|evdev:[^:]+(:(\\d+|(KEY|BTN)_[A-Z0-9_]+))?|serial:[^:]+(:\\d+)?|stdin)$',
        errorMessage:
          'must be gpio:BCM[:active_low], evdev:PATH[:KEYCODE], serial:PATH[:BAUD] or stdin',
      }),
      {
        default: [],
        description:
          'push-button(s): gpio:BCM[:active_low], evdev:PATH[:KEYCODE], serial:PATH[:BAUD] or stdin',
      },
    ),
    target: Type.Optional(
      Type.String({
        pattern: namePattern,
        description: 'who a press calls when idle',
        errorMessage: 'must be a user name',
      }),
    ),
    // [P-3] A key calls a user or group; `{ page: GROUP }` pages the group [G-2]
    // (extension: the page button's `page_press`, nothing new on the wire).
    panel: Type.Record(
      Type.String({ pattern: '^\\d{1,3}$' }),
      Type.Union(
        [
          Type.String({ pattern: namePattern }),
          Type.Object(
            { page: Type.String({ pattern: namePattern }) },
            { additionalProperties: false },
          ),
        ],
        { errorMessage: 'must be the user or group the key calls, or {page: GROUP}' },
      ),
      {
        // A key that is no button number would never be pressed: say so.
        additionalProperties: Type.Never({ errorMessage: 'is not a button number (0-999)' }),
        default: {},
        description:
          'serial panel: button number -> the user or group it calls, or {page: GROUP} to page a group',
        errorMessage:
          'must be a mapping of button numbers to the user or group each calls, or {page: GROUP}',
      },
    ),
    auto_answer: Type.Boolean({
      default: false,
      description: 'answer incoming calls without a press',
    }),
    do_not_disturb: Type.Boolean({ default: false, description: 'refuse incoming calls as busy' }),
    debounce_ms: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 30,
      description: 'button debounce',
    }),
    long_press_ms: Type.Integer({
      minimum: 100,
      maximum: 10000,
      default: 1000,
      description: 'held this long, a press is long',
    }),
    led: Type.Optional(
      Type.String({
        pattern: OUTPUT_PATTERN,
        description: 'status LED output: gpio:BCM[:active_low], or fake (in memory)',
        errorMessage: 'must be gpio:BCM[:active_low] or fake',
      }),
    ),
    door: Type.Object(
      {
        relay: Type.Optional(
          Type.String({
            pattern: OUTPUT_PATTERN,
            description: 'door-release relay output: gpio:BCM[:active_low], or fake (in memory)',
            errorMessage: 'must be gpio:BCM[:active_low] or fake',
          }),
        ),
        pulse_ms: Type.Integer({
          minimum: 100,
          maximum: 60000,
          default: 3000,
          description: 'how long the relay is held',
        }),
        key: Type.String({
          pattern: '^[0-9*#A-D]$',
          default: '#',
          description: 'DTMF key that opens the door (RFC 4733)',
        }),
        // [S-10] a list of users, or `any` (the old rule, warned about at start [S-11]).
        from: Type.Union([Type.Array(Type.String({ pattern: namePattern })), Type.Literal('any')], {
          default: [],
          description:
            'users whose door key opens this door in any call (besides calls this unit placed); any: every peer',
          errorMessage: 'must be a list of user names or any',
        }),
        button: Type.Optional(
          Type.String({
            description:
              'a second button that sends the door key to the peer during a call (button spec)',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    // [G-2] A page button (extension): one-way audio to a group's members.
    page: Type.Object(
      {
        button: Type.Optional(
          Type.String({
            description:
              'a button that pages page.target; pressed again, it ends the page (button spec)',
          }),
        ),
        target: Type.Optional(
          Type.String({
            pattern: namePattern,
            description: 'the group (or user) the page button pages',
            errorMessage: 'must be a group or user name',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    audio: Type.Object(
      {
        frame_ms: Type.Union([Type.Literal(20), Type.Literal(10)], {
          default: 20,
          description: 'Opus frame length',
        }),
        bitrate: Type.Integer({
          minimum: 6000,
          maximum: 128000,
          default: 24000,
          description: 'Opus bitrate, bit/s',
        }),
        complexity: Type.Integer({
          minimum: 0,
          maximum: 10,
          default: 5,
          description: 'Opus encoder complexity',
        }),
        // Extension (issue 15): no Babel receiver decodes in-band FEC (a lost frame is
        // concealed), so it is off unless a third-party receiver wants it.
        fec: Type.Boolean({
          default: false,
          description:
            'Opus in-band FEC in the packets sent, for receivers that decode it (Babel devices conceal a lost frame instead); costs encoder CPU and part of the bitrate',
        }),
        jitter_max_ms: Type.Integer({
          minimum: 20,
          maximum: 200,
          default: 200,
          description: 'largest jitter buffer',
        }),
        echo: oneOf(['aec', 'duck', 'off'], {
          default: 'aec',
          description:
            'echo control: aec (cancel the speaker in the microphone), duck (lower the microphone while the far end speaks; used when the echo canceller is not built), off',
          errorMessage: 'must be aec, duck or off',
        }),
        mic_gain_db: Type.Number({
          minimum: -20,
          maximum: 30,
          default: 0,
          description: 'microphone gain, dB (-20..30)',
        }),
        speaker_volume: Type.Integer({
          minimum: 0,
          maximum: 100,
          default: 100,
          description: 'speaker volume, 0..100 (also over MQTT: {"action":"volume","value":N})',
        }),
        noise_suppression: Type.Boolean({
          default: false,
          description:
            'suppress steady background noise in the microphone (speexdsp; steady tones fade too)',
        }),
        auto_gain: Type.Boolean({
          default: false,
          description: 'automatic microphone gain (speexdsp AGC)',
        }),
        // Extension (issue 15): where a call's per-frame work runs.
        engine: oneOf(['auto', 'native', 'js'], {
          default: 'auto',
          description:
            'media loop: native (a thread of the babel-media addon: capture, Opus, RTP/SRTP, jitter buffer, playout), js (the event loop), auto (native where it covers the setup, else js)',
          errorMessage: 'must be auto, native or js',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    tones: Type.Object(
      {
        ring: Type.String({
          default: 'generated',
          description: 'ring tone: generated or a WAV path',
        }),
        ringback: Type.String({
          default: 'generated',
          description: 'ring-back tone: generated or a WAV path',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
      {
        url: Type.Union(
          [Type.Literal('auto'), Type.Literal('off'), Type.String({ pattern: '^mqtts?://\\S+$' })],
          {
            default: 'auto',
            description:
              "MQTT broker: auto (the hub host: TLS on 8883 with the hub link's pin, or 1883 for a hub on this machine), off, or mqtt[s]://host[:port]",
            errorMessage: 'must be auto, off, or an mqtt:// or mqtts:// URL',
          },
        ),
        base_topic: Type.String({
          pattern: '^[^/#+\\s]+(/[^/#+\\s]+)*$',
          default: 'babel',
          description: 'topic prefix',
        }),
        username: Type.Optional(Type.String({ description: 'broker user name' })),
        password: Type.Optional(Type.String({ description: 'broker password' })),
      },
      { additionalProperties: false, default: {} },
    ),
    log_level: oneOf(LOG_LEVELS, { default: 'info', description: 'least severe level logged' }),
    list_audio: Type.Boolean({
      default: false,
      description: 'list sound cards with their spec strings, then exit',
    }),
    list_buttons: Type.Boolean({
      default: false,
      description: 'list GPIO chips and input devices, then exit',
    }),
    sound_check: Type.Boolean({
      default: false,
      description:
        'play a test sound on the speaker, record the microphone, print levels, echo delay and advice, then exit',
    }),
    doctor: Type.Boolean({
      default: false,
      description:
        'check config, hub reachable, TLS pin, sound card, GPIO lines and MQTT login, one line each, then exit (0 all passed, 1 a check failed)',
    }),
  },
  { additionalProperties: false },
);

export type DeviceConfig = Static<typeof DeviceConfigSchema>;

/** `babel-device` flags, as in docs/interfaces. */
export const DEVICE_FLAGS: FlagTable = [
  { flag: '--name', path: 'name', kind: 'string', arg: 'NAME' },
  { flag: '--hub', path: 'hub', kind: 'string', arg: 'HOST[:PORT]|tls://..|tcp://..' },
  { flag: '--hub-fingerprint', path: 'hub_fingerprint', kind: 'string', arg: 'sha256:HEX' },
  { flag: '--secret', path: 'secret', kind: 'string', arg: 'SECRET' },
  { flag: '--state-dir', path: 'state_dir', kind: 'string', arg: 'DIR' },
  { flag: '--media-port', path: 'media_port', kind: 'number', arg: 'N' },
  { flag: '--capture', path: 'capture', kind: 'string', arg: 'SPEC' },
  { flag: '--playback', path: 'playback', kind: 'string', arg: 'SPEC' },
  { flag: '--button', path: 'button', kind: 'list', arg: 'SPEC' },
  { flag: '--target', path: 'target', kind: 'string', arg: 'NAME' },
  { flag: '--page-button', path: 'page.button', kind: 'string', arg: 'SPEC' },
  { flag: '--page-target', path: 'page.target', kind: 'string', arg: 'GROUP' },
  { flag: '--mqtt', path: 'mqtt.url', kind: 'string', arg: 'URL|auto|off' },
  { flag: '--log-level', path: 'log_level', kind: 'string', arg: 'LEVEL' },
  { flag: '--auto-answer', path: 'auto_answer', kind: 'boolean', arg: '' },
  { flag: '--list-audio', path: 'list_audio', kind: 'boolean', arg: '' },
  { flag: '--list-buttons', path: 'list_buttons', kind: 'boolean', arg: '' },
  { flag: '--sound-check', path: 'sound_check', kind: 'boolean', arg: '' },
  { flag: '--doctor', path: 'doctor', kind: 'boolean', arg: '' },
];

export const DEVICE_CONFIG: ConfigSpec<typeof DeviceConfigSchema> = {
  program: 'babel-device',
  schema: DeviceConfigSchema,
  flags: DEVICE_FLAGS,
  envPrefix: 'BABEL_DEVICE_',
  version: DEVICE_CONFIG_VERSION,
  check: checkDeviceConfig,
};

export function loadDeviceConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): LoadResult<DeviceConfig> {
  const r = loadConfig(DEVICE_CONFIG, { argv, env, readFile });
  // What a pattern cannot say: a port out of range, brackets around a non-IPv6 host.
  const problem = r.kind === 'config' ? hubAddressProblem(r.config.hub) : null;
  if (problem) throw new ConfigError([`hub: ${problem}`]);
  // [G-2] A page button pages someone.
  if (r.kind === 'config' && r.config.page.button && !r.config.page.target)
    throw new ConfigError(['page.target: required with page.button (the group it pages)']);
  return r;
}

export { type HubAddress, isLoopback, parseHubAddress } from './hub-address.ts';
