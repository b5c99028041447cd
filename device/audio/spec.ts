/**
 * `--capture` and `--playback` spec strings (docs: /work/shared/interfaces.md) parsed into
 * discriminated unions, and printed back for logs. Errors carry the message only; the CLI
 * shows them as `--capture: <message>`.
 */

/** Where the microphone audio comes from. */
export type CaptureSpec =
  | { kind: 'alsa'; pcm: string }
  | { kind: 'arecord'; pcm: string }
  | { kind: 'file'; path: string }
  | { kind: 'tone'; hz: number }
  | { kind: 'silence' }
  /** The alsa backend over the in-process fake of the babel-alsa addon, playing a tone. */
  | { kind: 'fake-alsa'; hz: number };

/** Where the speaker audio goes. */
export type PlaybackSpec =
  | { kind: 'aplay'; pcm: string }
  | { kind: 'file'; path: string }
  | { kind: 'null' };

/** A spec string that does not parse; `message` says what was expected. */
export class AudioSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudioSpecError';
  }
}

const CAPTURE_FORMS = 'alsa:PCM, arecord:PCM, file:PATH.wav, tone:HZ or silence';
const PLAYBACK_FORMS = 'aplay:PCM, file:PATH.wav or null';
/** Tones the 48 kHz pipeline can carry, in Hz. */
const TONE_MIN_HZ = 20;
const TONE_MAX_HZ = 20_000;

/** Parses a `--capture` spec; throws `AudioSpecError`. */
export function parseCaptureSpec(s: string): CaptureSpec {
  if (s === 'silence') return { kind: 'silence' };
  const [kind, arg] = split(s);
  switch (kind) {
    case 'alsa':
    case 'arecord':
      return { kind, pcm: pcmName(kind, arg) };
    case 'file':
      return { kind, path: wavPath(arg) };
    case 'tone':
    case 'fake-alsa':
      return { kind, hz: toneHz(kind, arg) };
    default:
      throw new AudioSpecError(`unknown capture "${s}"; expected ${CAPTURE_FORMS}`);
  }
}

/** Parses a `--playback` spec; throws `AudioSpecError`. */
export function parsePlaybackSpec(s: string): PlaybackSpec {
  if (s === 'null') return { kind: 'null' };
  const [kind, arg] = split(s);
  switch (kind) {
    case 'aplay':
      return { kind, pcm: pcmName(kind, arg) };
    case 'file':
      return { kind, path: wavPath(arg) };
    default:
      throw new AudioSpecError(`unknown playback "${s}"; expected ${PLAYBACK_FORMS}`);
  }
}

/** The spec string for `spec`; `parse*Spec(formatSpec(x))` gives `x` back. */
export function formatSpec(spec: CaptureSpec | PlaybackSpec): string {
  switch (spec.kind) {
    case 'alsa':
    case 'arecord':
    case 'aplay':
      return `${spec.kind}:${spec.pcm}`;
    case 'file':
      return `file:${spec.path}`;
    case 'tone':
    case 'fake-alsa':
      return `${spec.kind}:${spec.hz}`;
    case 'silence':
    case 'null':
      return spec.kind;
  }
}

/** Splits at the first colon only: PCM names have their own (`plughw:CARD=x,DEV=0`). */
function split(s: string): [string, string | undefined] {
  const i = s.indexOf(':');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function pcmName(kind: string, arg: string | undefined): string {
  if (!arg || /\s/.test(arg)) {
    throw new AudioSpecError(
      `${kind}: needs an ALSA PCM name without spaces, e.g. ${kind}:default`,
    );
  }
  return arg;
}

function wavPath(arg: string | undefined): string {
  if (!arg || !/\.wav$/i.test(arg) || arg.length === 4) {
    throw new AudioSpecError(`file: needs a path ending in .wav, e.g. file:/tmp/audio.wav`);
  }
  return arg;
}

function toneHz(kind: string, arg: string | undefined): number {
  const hz = arg && /^\d+(\.\d+)?$/.test(arg) ? Number(arg) : Number.NaN;
  if (!(hz >= TONE_MIN_HZ && hz <= TONE_MAX_HZ)) {
    throw new AudioSpecError(
      `${kind}: needs a frequency from ${TONE_MIN_HZ} to ${TONE_MAX_HZ} Hz, e.g. ${kind}:440`,
    );
  }
  return hz;
}

/**
 * The echo control a speaker needs: `off` for `null`, which makes no sound, so nothing can
 * echo into the microphone and a canceller would only spend CPU (about 1 % of a core per
 * call with its delay tracker; docs/benchmarks.md, issue 15); otherwise `mode` as set.
 */
export function echoModeFor<M extends string>(spec: PlaybackSpec, mode: M): M | 'off' {
  return spec.kind === 'null' ? 'off' : mode;
}
