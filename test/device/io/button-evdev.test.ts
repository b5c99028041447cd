import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { ButtonPress } from '../../../device/io/button.ts';
import {
  EV_KEY,
  EvdevButton,
  type EvdevButtonOptions,
  encodeInputEvent,
  type InputEvent,
  InputEventDecoder,
  inputEventSize,
} from '../../../device/io/button-evdev.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

const EV_SYN = 0;
const BTN_0 = 256;
const key = (code: number, value: number): InputEvent => ({ type: EV_KEY, code, value });
const syn: InputEvent = { type: EV_SYN, code: 0, value: 0 };

/** Records as the kernel writes them, with a real timeval in front. */
function records(events: readonly InputEvent[], size: 16 | 24 = 24): Buffer {
  return Buffer.concat(
    events.map((ev, i) => {
      const buf = encodeInputEvent(ev, size);
      if (size === 24) buf.writeBigInt64LE(1_767_225_600n + BigInt(i), 0);
      else buf.writeUInt32LE(1_767_225_600 + i, 0);
      buf.writeUInt32LE(123_456, size === 24 ? 8 : 4);
      return buf;
    }),
  );
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'babel-evdev-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function setup(t: ExecutionContext, path: string, over: Partial<EvdevButtonOptions> = {}) {
  const clock = new FakeClock();
  const button = new EvdevButton({ path, clock, log: testLog, recordSize: 24, ...over });
  const presses: ButtonPress[] = [];
  const faults: Error[] = [];
  button.on('press', (p) => presses.push(p));
  button.on('fault', (e) => faults.push(e));
  t.teardown(() => button.stop());
  return { clock, button, presses, faults };
}

test('record size follows the process architecture', (t) => {
  t.is(inputEventSize('arm'), 16);
  t.is(inputEventSize('ia32'), 16);
  t.is(inputEventSize('arm64'), 24);
  t.is(inputEventSize('x64'), 24);
});

for (const size of [16, 24] as const) {
  test(`decoder (${size}-byte records): same events for the stream split at every offset`, (t) => {
    const events = [key(BTN_0, 1), syn, key(BTN_0, 2), key(28, 1), key(BTN_0, 0), syn];
    const bytes = records(events, size);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new InputEventDecoder(size);
      const got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      t.deepEqual(got, events, `cut at ${cut}`);
    }
    const d = new InputEventDecoder(size);
    t.deepEqual(
      [...bytes].flatMap((b) => d.push(Buffer.from([b]))),
      events,
    );
  });
}

test('a recorded device file: presses of the configured key only; repeats ignored; EOF is a fault', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'event0');
  writeFileSync(
    path,
    records([
      key(BTN_0, 1),
      syn,
      key(BTN_0, 2), // autorepeat
      key(BTN_0, 0),
      syn,
      key(28, 1), // another key
      key(28, 0),
      { type: 4, code: 4, value: BTN_0 }, // EV_MSC scan code
      key(BTN_0, 1),
      key(BTN_0, 0),
    ]),
  );
  // Small reads so records arrive split across chunks.
  const s = setup(t, path, { openStream: (p) => createReadStream(p, { highWaterMark: 10 }) });
  const fault = once(s.button, 'fault');
  s.button.start();
  const [err] = await within(fault, 5000, 'fault at end of file');
  t.regex((err as Error).message, /input device closed/);
  t.deepEqual(s.presses, [{ long: false }, { long: false }]);
  await s.button.stop();
  t.is(s.clock.pending, 0);
});

test('32-bit records (16 bytes) with a key given by number', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'event1');
  writeFileSync(path, records([key(28, 1), key(28, 0), key(BTN_0, 1), key(BTN_0, 0)], 16));
  const s = setup(t, path, { recordSize: 16, keycode: 28 });
  const fault = once(s.button, 'fault');
  s.button.start();
  await within(fault, 5000, 'fault at end of file');
  t.deepEqual(s.presses, [{ long: false }]);
  t.is(s.button.label, `evdev:${path}:28`);
  await s.button.stop();
});

test('a missing device is a fault, retried on the clock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'event9');
  const s = setup(t, path, { retryMs: 2000 });
  const fault = once(s.button, 'fault');
  s.button.start();
  const [err] = await within(fault, 5000, 'ENOENT fault');
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
  writeFileSync(path, records([key(BTN_0, 1), key(BTN_0, 0)]));
  const ready = once(s.button, 'ready');
  s.clock.advance(2000);
  await within(ready, 5000, 'ready after retry');
  await within(once(s.button, 'fault'), 5000, 'end of the file');
  t.deepEqual(s.presses, [{ long: false }]);
  await s.button.stop();
});

/** A FIFO stands in for the character device: reads block until records are written. */
function fifo(t: ExecutionContext): string | null {
  const path = join(tempDir(t), 'event-fifo');
  try {
    execFileSync('mkfifo', [path]);
    return path;
  } catch {
    return null;
  }
}

test('a live device (FIFO): long press while held, then the device goes away and comes back', async (t) => {
  const path = fifo(t);
  if (!path) {
    t.log('mkfifo not available: skipped');
    t.pass();
    return;
  }
  const s = setup(t, path, { retryMs: 1000 });
  const levels: boolean[] = [];
  s.button.on('level', (l) => levels.push(l));
  let writer: FileHandle | null = null;
  try {
    const ready = once(s.button, 'ready');
    s.button.start();
    writer = await within(open(path, 'w'), 5000, 'FIFO writer');
    await within(ready, 5000, 'ready');

    let level = once(s.button, 'level');
    await writer.write(records([key(BTN_0, 1), syn]));
    await within(level, 5000, 'press read');
    s.clock.advance(999);
    t.deepEqual(s.presses, []);
    s.clock.advance(1);
    t.deepEqual(s.presses, [{ long: true }]); // at the threshold, still held
    level = once(s.button, 'level');
    await writer.write(records([key(BTN_0, 2), key(BTN_0, 0), syn]));
    await within(level, 5000, 'release read');
    t.deepEqual(levels, [true, false]);
    t.is(s.presses.length, 1);

    // The device disappears (EOF): a fault, then a retry that waits for it.
    const fault = once(s.button, 'fault');
    await writer.close();
    writer = null;
    await within(fault, 5000, 'fault on EOF');
    const back = once(s.button, 'ready');
    s.clock.advance(1000);
    writer = await within(open(path, 'w'), 5000, 'second writer');
    await within(back, 5000, 'ready again');

    level = once(s.button, 'level');
    await writer.write(records([key(BTN_0, 1)]));
    await within(level, 5000, 'second press read');
    s.clock.advance(200);
    level = once(s.button, 'level');
    await writer.write(records([key(BTN_0, 0)]));
    await within(level, 5000, 'second release read');
    t.deepEqual(s.presses, [{ long: true }, { long: false }]);
  } finally {
    await s.button.stop();
    // The pending read ends at EOF, which lets the stream close.
    await writer?.close();
  }
});
