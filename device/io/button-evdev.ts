/**
 * `evdev:PATH[:KEYCODE]`: a button declared with the kernel's `gpio-key` overlay, read as
 * `struct input_event` records from `/dev/input/...`. Works on every Pi (no sysfs line
 * numbers, the kernel sets the pull and debounces), e.g. in `config.txt`:
 *
 *   dtoverlay=gpio-key,gpio=17,active_low=1,gpio_pull=up,keycode=256,label=babel
 *
 * then `--button evdev:/dev/input/by-path/platform-babel-event` (or the eventN node).
 * The default key code is BTN_0 (256): not a keyboard key, so a console or desktop does
 * not act on it. Do not keep the overlay's own default, KEY_POWER (116): logind shuts
 * the Pi down on it.
 *
 * Timing comes from the injected clock when a record is read, not from the record's
 * timeval (CLOCK_REALTIME, which can jump). The kernel debounces, so the detector runs
 * with a debounce of 0 unless configured, for long-press timing only.
 *
 * The records are read through an fs stream: each pending read holds a libuv pool
 * thread (4 by default) until an event arrives, and until then keeps the event loop
 * alive, so `stop()` does not wait for the stream to close and the agent exits
 * explicitly on SIGTERM.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { asError, ButtonBase, PressClassifier, type PressTiming } from './button.ts';

/** BTN_0 from linux/input-event-codes.h; see the module comment. */
export const DEFAULT_KEYCODE = 256;
/** EV_KEY: key and button events. */
export const EV_KEY = 1;

/** The record size `struct input_event` has for a process of this architecture. */
export function inputEventSize(arch: string = process.arch): 16 | 24 {
  // 32-bit userland (armhf Raspberry Pi OS, even on a 64-bit kernel) gets the compat
  // layout with a 32-bit timeval; the kernel keeps it so even with a 64-bit time_t.
  return arch === 'arm' || arch === 'ia32' || arch === 'mips' || arch === 'ppc' ? 16 : 24;
}

/** One decoded record; the timestamp is not kept (see the module comment). */
export interface InputEvent {
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

/**
 * Splits a byte stream into `struct input_event` records (linux/input.h), little-endian:
 *
 *   24 bytes (64-bit)                       16 bytes (32-bit)
 *    0  tv_sec   s64                         0  tv_sec   u32
 *    8  tv_usec  s64                         4  tv_usec  u32
 *   16  type     u16                         8  type     u16
 *   18  code     u16                        10  code     u16
 *   20  value    s32                        12  value    s32
 *
 * A record split across chunks is kept until its end arrives.
 */
export class InputEventDecoder {
  readonly #size: 16 | 24;
  #rest: Buffer = Buffer.alloc(0);

  constructor(recordSize: 16 | 24 = inputEventSize()) {
    this.#size = recordSize;
  }

  push(chunk: Buffer): InputEvent[] {
    const buf = this.#rest.length > 0 ? Buffer.concat([this.#rest, chunk]) : chunk;
    const typeAt = this.#size - 8; // type, code and value are the last 8 bytes
    const events: InputEvent[] = [];
    let off = 0;
    for (; off + this.#size <= buf.length; off += this.#size) {
      events.push({
        type: buf.readUInt16LE(off + typeAt),
        code: buf.readUInt16LE(off + typeAt + 2),
        value: buf.readInt32LE(off + typeAt + 4),
      });
    }
    this.#rest = Buffer.from(buf.subarray(off));
    return events;
  }
}

/** Encodes one record (for tests and fakes of an input device). */
export function encodeInputEvent(ev: InputEvent, recordSize: 16 | 24 = inputEventSize()): Buffer {
  const buf = Buffer.alloc(recordSize);
  const typeAt = recordSize - 8;
  buf.writeUInt16LE(ev.type, typeAt);
  buf.writeUInt16LE(ev.code, typeAt + 2);
  buf.writeInt32LE(ev.value, typeAt + 4);
  return buf;
}

/** Options of an `EvdevButton`; the seams default to the real device file. */
export interface EvdevButtonOptions extends PressTiming {
  readonly path: string;
  /** Default `DEFAULT_KEYCODE` (BTN_0). */
  readonly keycode?: number | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  /** Default from `process.arch` (`inputEventSize`). */
  readonly recordSize?: 16 | 24 | undefined;
  /** Opens the device file; the stream must emit `ready` once open, as fs streams do. */
  readonly openStream?: ((path: string) => ReadStream) | undefined;
  readonly retryMs?: number | undefined;
}

/** A `gpio-key` button read from an input device file. */
export class EvdevButton extends ButtonBase {
  readonly #o: EvdevButtonOptions;
  readonly #keycode: number;
  #stream: ReadStream | null = null;
  #classifier: PressClassifier | null = null;

  constructor(opts: EvdevButtonOptions) {
    const keycode = opts.keycode ?? DEFAULT_KEYCODE;
    super(`evdev:${opts.path}:${keycode}`, opts.clock, opts.log, opts.retryMs);
    this.#o = opts;
    this.#keycode = keycode;
  }

  protected acquire(): Promise<void> {
    const open = this.#o.openStream ?? ((path: string) => createReadStream(path));
    const stream = open(this.#o.path);
    this.#stream = stream;
    // Key state is unknown at open (no EVIOCGKEY from Node): assume released; a button
    // held at start then only produces an ignored release.
    const classifier = new PressClassifier(this.clock, (long) => this.emitPress(long), {
      debounceMs: this.#o.debounceMs ?? 0,
      longPressMs: this.#o.longPressMs,
    });
    this.#classifier = classifier;
    const decoder = new InputEventDecoder(this.#o.recordSize ?? inputEventSize());
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      stream.once('ready', () => {
        ready = true;
        resolve();
      });
      // The listener stays after release, so a late error is never unhandled.
      stream.on('error', (err) => {
        if (this.#stream !== stream) return;
        if (ready) this.lost(asError(err));
        else reject(err);
      });
      stream.on('end', () => {
        if (this.#stream === stream) this.lost(new Error(`${this.#o.path}: input device closed`));
      });
      stream.on('data', (chunk) => {
        if (this.#stream !== stream || typeof chunk === 'string') return;
        for (const ev of decoder.push(chunk)) {
          if (ev.type !== EV_KEY || ev.code !== this.#keycode || ev.value === 2) continue;
          this.emit('level', ev.value === 1);
          classifier.level(ev.value === 1);
        }
      });
    });
  }

  protected async release(): Promise<void> {
    this.#classifier?.close();
    this.#classifier = null;
    const stream = this.#stream;
    this.#stream = null;
    stream?.destroy();
  }
}
