import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { ButtonPress } from '../../../device/io/button.ts';
import { GpioButton, type GpioButtonOptions } from '../../../device/io/button-gpio.ts';
import { errno, FakeGpio, FakeGpioBank } from '../../../device/io/fake-gpio.ts';
import { GpioLookupError } from '../../../device/io/gpio-base.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

/** A Pi 5 sysfs tree: the header chip `pinctrl-rp1` at base 571 among the SoC's chips. */
function pi5Sysfs(t: ExecutionContext): string {
  const root = mkdtempSync(join(tmpdir(), 'babel-gpio-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [base, label, ngpio] of [
    [512, 'gpio-brcmstb@107d508500', 32],
    [571, 'pinctrl-rp1', 54],
  ] as const) {
    const dir = join(root, `gpiochip${base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${base}\n`);
    writeFileSync(join(dir, 'label'), `${label}\n`);
    writeFileSync(join(dir, 'ngpio'), `${ngpio}\n`);
  }
  return root;
}

function setup(t: ExecutionContext, over: Partial<GpioButtonOptions> = {}) {
  const clock = new FakeClock();
  const bank = new FakeGpioBank();
  const button = new GpioButton({
    bcm: 17,
    activeLow: false,
    clock,
    log: testLog,
    sysfsRoot: pi5Sysfs(t),
    gpioFactory: bank.factory,
    retryMs: 5000,
    ...over,
  });
  const presses: ButtonPress[] = [];
  const faults: Error[] = [];
  let ready = 0;
  button.on('press', (p) => presses.push(p));
  button.on('fault', (e) => faults.push(e));
  button.on('ready', () => ready++);
  t.teardown(() => button.stop());
  return { clock, bank, button, presses, faults, ready: () => ready };
}

/** Lets the acquire promise settle (it is async even when the hardware opens at once). */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('opens BCM 17 as sysfs line 588 on a Pi 5, input with both edges', async (t) => {
  const s = setup(t);
  s.button.start();
  await settle();
  const gpio = s.bank.get(588);
  t.truthy(gpio);
  t.is(gpio?.direction(), 'in');
  t.is(gpio?.edge(), 'both');
  t.false(gpio?.activeLow());
  t.is(gpio?.watching, 1);
  t.is(s.ready(), 1);
  t.is(s.button.label, 'gpio:17');
});

test('short press, bounce and long press through the fake Gpio', async (t) => {
  const s = setup(t);
  s.button.start();
  await settle();
  const gpio = s.bank.get(588)!;
  // A 10 ms bounce: nothing.
  gpio.drive(1);
  s.clock.advance(10);
  gpio.drive(0);
  s.clock.advance(500);
  t.deepEqual(s.presses, []);
  // A bouncy 200 ms press: one short press.
  gpio.drive(1);
  s.clock.advance(2);
  gpio.drive(0);
  s.clock.advance(2);
  gpio.drive(1);
  s.clock.advance(200);
  gpio.drive(0);
  s.clock.advance(30);
  t.deepEqual(s.presses, [{ long: false }]);
  // Held: long at one second, while still held; the release adds nothing.
  gpio.drive(1);
  s.clock.advance(1000);
  t.deepEqual(s.presses, [{ long: false }, { long: true }]);
  gpio.drive(0);
  s.clock.advance(1000);
  t.is(s.presses.length, 2);
});

test('active_low: the pin pulled to ground is a press', async (t) => {
  const s = setup(t, { activeLow: true });
  s.button.start();
  await settle();
  const gpio = s.bank.get(588)!;
  t.true(gpio.activeLow());
  gpio.drive(0); // physical low = pressed
  s.clock.advance(100);
  gpio.drive(1);
  s.clock.advance(100);
  t.deepEqual(s.presses, [{ long: false }]);
  t.is(s.button.label, 'gpio:17:active_low');
});

test('a button held at start reports nothing until released', async (t) => {
  const bank = new FakeGpioBank();
  const held: GpioButtonOptions['gpioFactory'] = (line, dir, edge, opts) => {
    const g = bank.factory(line, dir, edge, opts) as FakeGpio;
    g.drive(1);
    return g;
  };
  const s2 = setup(t, { gpioFactory: held });
  s2.button.start();
  await settle();
  const gpio = bank.get(588)!;
  s2.clock.advance(3000);
  gpio.drive(0);
  s2.clock.advance(100);
  t.deepEqual(s2.presses, []);
  gpio.drive(1);
  s2.clock.advance(100);
  gpio.drive(0);
  s2.clock.advance(100);
  t.deepEqual(s2.presses, [{ long: false }]);
});

test('a Gpio that cannot be opened is a fault, retried on the clock', async (t) => {
  const s = setup(t);
  s.bank.failNext = errno('EACCES', "open '/sys/class/gpio/export'");
  s.button.start();
  await settle();
  t.is(s.faults.length, 1);
  t.regex(s.faults[0]!.message, /EACCES/);
  t.is(s.bank.created.length, 0);
  s.clock.advance(4999);
  await settle();
  t.is(s.ready(), 0);
  s.clock.advance(1);
  await settle();
  t.is(s.ready(), 1);
  t.truthy(s.bank.get(588));
});

test('no Raspberry Pi chip in sysfs: a fault, not a crash', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'babel-gpio-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const s = setup(t, { sysfsRoot: root });
  s.button.start();
  await settle();
  t.true(s.faults[0] instanceof GpioLookupError);
  t.is(s.clock.pending, 1); // the retry
});

test('an epoll error from watch drops the Gpio and reopens it', async (t) => {
  const s = setup(t);
  s.button.start();
  await settle();
  const first = s.bank.get(588)!;
  first.fail(errno('EBADF', 'epoll'));
  await settle();
  t.is(s.faults.length, 1);
  t.false(first.exported);
  s.clock.advance(5000);
  await settle();
  const second = s.bank.get(588)!;
  t.not(second, first);
  second.drive(1);
  s.clock.advance(100);
  second.drive(0);
  s.clock.advance(100);
  t.deepEqual(s.presses, [{ long: false }]);
});

test('stop unexports the Gpio and cancels every timer', async (t) => {
  const s = setup(t);
  s.button.start();
  await settle();
  const gpio = s.bank.get(588)!;
  gpio.drive(1);
  await s.button.stop();
  t.false(gpio.exported);
  t.is(gpio.watching, 0);
  t.is(s.clock.pending, 0);
  s.clock.advance(5000);
  t.deepEqual(s.presses, []);
  await s.button.stop(); // idempotent
});

// --- the fake itself honours onoff's contract ---

test('FakeGpio: watchers follow the configured edge', (t) => {
  const seen: string[] = [];
  for (const edge of ['both', 'rising', 'falling', 'none'] as const) {
    const g = new FakeGpio(5, 'in', edge);
    g.watch((err, v) => seen.push(`${edge}:${err ? 'err' : v}`));
    g.drive(1);
    g.drive(1); // no change, no callback
    g.drive(0);
  }
  t.deepEqual(seen, ['both:1', 'both:0', 'rising:1', 'falling:0']);
});

test('FakeGpio: active low inverts reads and writes; outputs start off', async (t) => {
  const input = new FakeGpio(5, 'in', 'both', { activeLow: true });
  t.is(input.physical, 1); // held high at rest, as by a pull-up
  t.is(input.readSync(), 0);
  input.drive(0);
  t.is(await input.read(), 1);
  const out = new FakeGpio(6, 'high', 'none', { activeLow: true });
  t.is(out.physical, 1);
  t.is(out.readSync(), 0);
  out.writeSync(1);
  t.is(out.physical, 0);
  await out.write(0);
  t.deepEqual(out.writes, [1, 0]);
});

test('FakeGpio: inputs refuse writes; unexported lines refuse everything', async (t) => {
  const g = new FakeGpio(5, 'in');
  t.throws(() => g.writeSync(1), { message: /EPERM/ });
  g.unexport();
  t.throws(() => g.readSync(), { message: /EBADF/ });
  await t.throwsAsync(g.read(), { message: /EBADF/ });
  const err = await new Promise<Error | null | undefined>((r) => g.write(1, r));
  t.regex(String(err), /EBADF/);
  const cb = await new Promise<string>((r) => g.read((e, v) => r(`${e ? 'err' : v}`)));
  t.is(cb, 'err');
});
