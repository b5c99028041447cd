/**
 * `gpio:BCM[:active_low]`: a push-button on a header pin, read through onoff (sysfs and
 * epoll), with edge `both` and our own debounce and long-press timing. The BCM number
 * is turned into the sysfs line (`gpio-base.ts`), so the same spec works on every Pi.
 *
 * Wiring: onoff cannot set pull resistors. BCM 0-8 have pull-ups and 9-27 pull-downs at
 * power-on; a button to ground on a pulled-up pin wants `active_low`. For other pins,
 * set the pull in `config.txt` (`gpio=17=ip,pu`) or use `evdev:` with the `gpio-key`
 * overlay, which sets it.
 */
import type { BinaryValue, Gpio } from 'onoff';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { asError, ButtonBase, PressClassifier, type PressTiming } from './button.ts';
import { type GpioFactory, onoffGpio, SYSFS_GPIO, sysfsLine } from './gpio-base.ts';

/** Options of a `GpioButton`; the seams default to onoff and the real sysfs. */
export interface GpioButtonOptions extends PressTiming {
  readonly bcm: number;
  /** The pin reads 0 while pressed (a button to ground with a pull-up). */
  readonly activeLow: boolean;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where to look up the chip base; a fake tree in tests. */
  readonly sysfsRoot?: string | undefined;
  readonly gpioFactory?: GpioFactory | undefined;
  readonly retryMs?: number | undefined;
}

/** A header-pin button through onoff (or a `FakeGpio`). */
export class GpioButton extends ButtonBase {
  readonly #o: GpioButtonOptions;
  #gpio: Gpio | null = null;
  #classifier: PressClassifier | null = null;

  constructor(opts: GpioButtonOptions) {
    super(
      `gpio:${opts.bcm}${opts.activeLow ? ':active_low' : ''}`,
      opts.clock,
      opts.log,
      opts.retryMs,
    );
    this.#o = opts;
  }

  protected async acquire(): Promise<void> {
    const line = sysfsLine(this.#o.bcm, this.#o.sysfsRoot ?? SYSFS_GPIO);
    const make = this.#o.gpioFactory ?? onoffGpio;
    const gpio = make(line, 'in', 'both', { activeLow: this.#o.activeLow });
    this.#gpio = gpio;
    const classifier = new PressClassifier(this.clock, (long) => this.emitPress(long), {
      debounceMs: this.#o.debounceMs,
      longPressMs: this.#o.longPressMs,
      // A button held at start reports nothing until released.
      initialPressed: gpio.readSync() === 1,
    });
    this.#classifier = classifier;
    gpio.watch((err: Error | null | undefined, value: BinaryValue) => {
      if (this.#gpio !== gpio) return;
      if (err) {
        this.lost(asError(err));
        return;
      }
      this.emit('level', value === 1);
      classifier.level(value === 1);
    });
    this.log.debug({ bcm: this.#o.bcm, line }, 'gpio button open');
  }

  protected async release(): Promise<void> {
    this.#classifier?.close();
    this.#classifier = null;
    const gpio = this.#gpio;
    this.#gpio = null;
    if (!gpio) return;
    try {
      gpio.unwatchAll();
      gpio.unexport();
    } catch (err) {
      this.log.debug({ err }, 'gpio unexport failed');
    }
  }
}
