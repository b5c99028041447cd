/**
 * GPIO numbering, and the onoff seam that GPIO buttons and outputs share.
 *
 * onoff drives the kernel's sysfs interface, which wants the global line number: the
 * chip's `base` plus the line's offset in the chip. Kernels up to 6.5 gave the Raspberry
 * Pi's main chip base 0, so BCM numbers worked as they were; current Raspberry Pi OS
 * kernels allocate bases dynamically from 512 (Pi 4: 512, `pinctrl-bcm2711`; Pi 5: 571,
 * `pinctrl-rp1`). Users give plain BCM numbers; this module finds the base from the chip
 * labels under `/sys/class/gpio/gpiochipN/{label,base,ngpio}`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Direction, Edge, Gpio, Options } from 'onoff';

/** Where the kernel's GPIO sysfs interface lives; onoff itself hard-codes this path. */
export const SYSFS_GPIO = '/sys/class/gpio';

/**
 * Labels of the chip that carries the 40-pin header, per Raspberry Pi model. Others seen
 * on a Pi are NOT it: `raspberrypi-exp-gpio` (firmware expander), `brcmvirt-gpio`,
 * `gpio-brcmstb@...` (the Pi 5's SoC lines, not the header).
 */
export const MAIN_CHIP_LABELS = [
  'pinctrl-rp1', // Pi 5 (the RP1 I/O controller)
  'pinctrl-bcm2711', // Pi 4, Pi 400, CM4
  'pinctrl-bcm2835', // Pi 1, 2, 3, Zero (also BCM2836/7)
] as const;

/** One `gpiochipN` directory. */
export interface GpioChip {
  /** The directory name: `gpiochip512`. */
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

/** No usable GPIO chip, or a BCM number the chip does not have. */
export class GpioLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioLookupError';
  }
}

/** Every chip under `root`, in directory order; unreadable entries are skipped. */
export function listGpioChips(root: string = SYSFS_GPIO): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (err) {
    throw new GpioLookupError(
      `cannot read ${root} (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
        'is this a Raspberry Pi with the GPIO sysfs interface?',
    );
  }
  const chips: GpioChip[] = [];
  for (const name of names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    try {
      const read = (f: string) => readFileSync(join(root, name, f), 'utf8').trim();
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (Number.isInteger(base) && Number.isInteger(ngpio)) {
        chips.push({ name, label: read('label'), base, ngpio });
      }
    } catch {
      // A chip going away while we look, or one we may not read: not ours to use.
    }
  }
  return chips;
}

/** The chip carrying the header, by label (`MAIN_CHIP_LABELS`, first match wins). */
export function findMainChip(chips: readonly GpioChip[], root: string = SYSFS_GPIO): GpioChip {
  for (const label of MAIN_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.map((c) => `${c.name} "${c.label}"`).join(', ') || 'no gpiochip entries';
  throw new GpioLookupError(
    `no Raspberry Pi GPIO chip under ${root} (looked for ${MAIN_CHIP_LABELS.join(', ')}; ` +
      `found ${seen})`,
  );
}

/** The sysfs line number for a BCM GPIO number: the main chip's base plus `bcm`. */
export function sysfsLine(bcm: number, root: string = SYSFS_GPIO): number {
  const chip = findMainChip(listGpioChips(root), root);
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new GpioLookupError(
      `BCM ${bcm} does not exist: ${chip.label} has GPIO 0-${chip.ngpio - 1}`,
    );
  }
  return chip.base + bcm;
}

/** Makes an onoff `Gpio` (or a `FakeGpio`) for a sysfs line. */
export type GpioFactory = (
  line: number,
  direction: Direction,
  edge: Edge,
  options: Options,
) => Gpio;

/**
 * The real factory. onoff (and its native `epoll` addon) is loaded on first use, so a
 * device without GPIO buttons or outputs never loads it.
 */
export const onoffGpio: GpioFactory = (line, direction, edge, options) => {
  const require = createRequire(import.meta.url);
  const { Gpio: OnoffGpio } = require('onoff') as typeof import('onoff');
  return new OnoffGpio(line, direction, edge, options);
};
