/**
 * `--button` specs (docs: shared interfaces): `gpio:BCM[:active_low]`,
 * `evdev:PATH[:KEYCODE]`, `serial:PATH[:BAUD]`, `stdin`. Parsed into a discriminated
 * union with a clear message per mistake; `createButton` makes the backend.
 *
 * Paths may contain `:` (`/dev/serial/by-path/...-usb-0:1.3:1.0-port0`), so only a last
 * `:` segment that looks like a key code or a baud rate is taken as one.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { Button, PressTiming } from './button.ts';
import { DEFAULT_KEYCODE, EvdevButton, type EvdevButtonOptions } from './button-evdev.ts';
import { GpioButton } from './button-gpio.ts';
import {
  DEFAULT_BAUD,
  type PanelKey,
  type SerialFactory,
  SerialPanelButton,
} from './button-serial.ts';
import { StdinButton } from './button-stdin.ts';
import type { GpioFactory } from './gpio-base.ts';

/** A parsed `--button` value. */
export type ButtonSpec =
  | { readonly kind: 'gpio'; readonly bcm: number; readonly activeLow: boolean }
  | { readonly kind: 'evdev'; readonly path: string; readonly keycode: number }
  | { readonly kind: 'serial'; readonly path: string; readonly baudRate: number }
  | { readonly kind: 'stdin' };

/** A spec that cannot be used; the message names the spec and what is wrong. */
export class ButtonSpecError extends Error {
  constructor(spec: string, problem: string) {
    super(`"${spec}": ${problem}`);
    this.name = 'ButtonSpecError';
  }
}

/** Key names accepted for KEYCODE besides numbers (linux/input-event-codes.h). */
export const KEY_NAMES: Readonly<Record<string, number>> = {
  KEY_ENTER: 28,
  KEY_SPACE: 57,
  KEY_POWER: 116,
  KEY_PROG1: 148,
  KEY_PROG2: 149,
  KEY_PROG3: 202,
  KEY_PROG4: 203,
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`BTN_${i}`, 256 + i])),
};

const KEY_MAX = 0x2ff;
const MAX_BCM = 63;
const MAX_BAUD = 4_000_000;

/** Parses one `--button` value; throws `ButtonSpecError`. */
export function parseButtonSpec(text: string): ButtonSpec {
  const colon = text.indexOf(':');
  const kind = colon === -1 ? text : text.slice(0, colon);
  const rest = colon === -1 ? null : text.slice(colon + 1);
  const fail = (problem: string): never => {
    throw new ButtonSpecError(text, problem);
  };
  switch (kind) {
    case 'stdin':
      if (rest !== null) fail('stdin takes no options');
      return { kind: 'stdin' };
    case 'gpio': {
      const [bcm, flag, extra] = (rest ?? '').split(':');
      if (!bcm || !/^\d{1,2}$/.test(bcm) || Number(bcm) > MAX_BCM) {
        fail(`expected gpio:BCM[:active_low] with BCM a GPIO number 0-${MAX_BCM}`);
      }
      if (extra !== undefined || (flag !== undefined && flag !== 'active_low')) {
        fail('the only gpio option is active_low');
      }
      return { kind: 'gpio', bcm: Number(bcm), activeLow: flag === 'active_low' };
    }
    case 'evdev': {
      const [path, code] = splitOption(rest, /^(\d+|[A-Z][A-Z0-9_]*)$/);
      if (!path) fail('expected evdev:PATH[:KEYCODE], e.g. evdev:/dev/input/event0:256');
      const keycode = code === null ? DEFAULT_KEYCODE : keyCode(code);
      if (keycode === null) {
        fail(`unknown key code ${code}: give a number 0-${KEY_MAX} or a KEY_/BTN_ name`);
      }
      return { kind: 'evdev', path: path!, keycode: keycode! };
    }
    case 'serial': {
      const [path, baud] = splitOption(rest, /^\d+$/);
      if (!path) fail('expected serial:PATH[:BAUD], e.g. serial:/dev/ttyUSB0:9600');
      const baudRate = baud === null ? DEFAULT_BAUD : Number(baud);
      if (!Number.isInteger(baudRate) || baudRate < 50 || baudRate > MAX_BAUD) {
        fail(`baud rate ${baud} out of range 50-${MAX_BAUD}`);
      }
      return { kind: 'serial', path: path!, baudRate };
    }
    default:
      return fail(
        'expected gpio:BCM[:active_low], evdev:PATH[:KEYCODE], serial:PATH[:BAUD] or stdin',
      );
  }
}

/** The canonical text of a spec (parses back to the same spec). */
export function formatButtonSpec(spec: ButtonSpec): string {
  switch (spec.kind) {
    case 'stdin':
      return 'stdin';
    case 'gpio':
      return `gpio:${spec.bcm}${spec.activeLow ? ':active_low' : ''}`;
    case 'evdev':
      return `evdev:${spec.path}:${spec.keycode}`;
    case 'serial':
      return `serial:${spec.path}:${spec.baudRate}`;
  }
}

/** Splits `PATH[:OPT]`: the last segment is an option only when it matches `opt`. */
function splitOption(rest: string | null, opt: RegExp): [string, string | null] {
  if (!rest) return ['', null];
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && opt.test(rest.slice(colon + 1))) {
    return [rest.slice(0, colon), rest.slice(colon + 1)];
  }
  return [rest, null];
}

function keyCode(text: string): number | null {
  const n = /^\d+$/.test(text) ? Number(text) : KEY_NAMES[text];
  return n !== undefined && n <= KEY_MAX ? n : null;
}

/**
 * What backends need besides the spec; the seams default to the real hardware.
 * `debounceMs` applies to `gpio:` only (evdev and panels are debounced upstream).
 */
export interface ButtonDeps extends PressTiming {
  readonly clock: Clock;
  readonly log: Logger;
  readonly retryMs?: number | undefined;
  /** gpio: where the chip base is looked up, and how a `Gpio` is made. */
  readonly sysfsRoot?: string;
  readonly gpioFactory?: GpioFactory;
  /** evdev: record size (default from `process.arch`) and how the file is opened. */
  readonly recordSize?: 16 | 24;
  readonly openStream?: EvdevButtonOptions['openStream'];
  /** serial: button number -> the user or group it calls, or `{ page }` [G-2]; how a port is made. */
  readonly panelTargets?: Readonly<Record<string, PanelKey>>;
  readonly serialFactory?: SerialFactory;
  /** stdin: default `process.stdin`. */
  readonly stdin?: Readable;
}

/** Makes the backend for a spec (not started). */
export function createButton(spec: ButtonSpec, deps: ButtonDeps): Button {
  const log = deps.log.child({ mod: 'button', button: formatButtonSpec(spec) });
  // The debounce is for bare GPIO contacts; the kernel (evdev) and the panel debounce
  // their own, so those backends keep their default of 0.
  const common = { clock: deps.clock, log, longPressMs: deps.longPressMs, retryMs: deps.retryMs };
  switch (spec.kind) {
    case 'stdin':
      return new StdinButton({ log, input: deps.stdin });
    case 'gpio':
      return new GpioButton({
        ...common,
        bcm: spec.bcm,
        activeLow: spec.activeLow,
        debounceMs: deps.debounceMs,
        sysfsRoot: deps.sysfsRoot,
        gpioFactory: deps.gpioFactory,
      });
    case 'evdev':
      return new EvdevButton({
        ...common,
        path: spec.path,
        keycode: spec.keycode,
        recordSize: deps.recordSize,
        openStream: deps.openStream,
      });
    case 'serial':
      return new SerialPanelButton({
        ...common,
        path: spec.path,
        baudRate: spec.baudRate,
        targets: deps.panelTargets,
        serialFactory: deps.serialFactory,
      });
  }
}
