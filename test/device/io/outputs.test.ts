import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { errno, FakeGpioBank } from '../../../device/io/fake-gpio.ts';
import {
  DoorRelay,
  FakeOutput,
  GpioOutput,
  Led,
  type LedPattern,
} from '../../../device/io/outputs.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

/** `on@t` for each recorded change. */
const show = (out: FakeOutput) => out.transitions.map((x) => `${x.on ? 'on' : 'off'}@${x.at}`);

const patterns: ReadonlyArray<[LedPattern, string[]]> = [
  ['off', []],
  ['on', ['on@0']],
  ['blink', ['on@0', 'off@500', 'on@1000', 'off@1500', 'on@2000']],
  [
    'fast_blink',
    [
      'on@0',
      'off@100',
      'on@200',
      'off@300',
      'on@400',
      'off@500',
      'on@600',
      'off@700',
      'on@800',
      'off@900',
      'on@1000',
    ],
  ],
];

for (const [pattern, expected] of patterns) {
  test(`LED ${pattern}`, (t) => {
    const clock = new FakeClock();
    const out = new FakeOutput(clock);
    const led = new Led(out, clock);
    led.play(pattern);
    clock.advance(pattern === 'blink' ? 2000 : 1000);
    t.deepEqual(show(out), expected);
    t.is(led.pattern, pattern);
  });
}

test('LED: switching pattern stops the blinking; replaying a pattern does not glitch', (t) => {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  const led = new Led(out, clock);
  led.play('blink');
  clock.advance(700); // on@0 off@500
  led.play('blink'); // the same pattern: no restart
  clock.advance(100);
  t.deepEqual(show(out), ['on@0', 'off@500']);
  led.play('on'); // on@800, blinking stopped
  t.is(clock.pending, 0);
  clock.advance(5000);
  led.play('fast_blink'); // already lit: no change until off@5900
  clock.advance(150);
  led.play('off'); // already dark at 5950
  t.deepEqual(show(out), ['on@0', 'off@500', 'on@800', 'off@5900']);
  t.is(clock.pending, 0);
  led.close();
  t.true(out.closed);
  t.false(out.on);
});

test('LED custom periods', (t) => {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  new Led(out, clock, { blinkMs: 250, fastBlinkMs: 50 }).play('blink');
  clock.advance(500);
  t.deepEqual(show(out), ['on@0', 'off@250', 'on@500']);
});

test('door relay: pulses for the configured time; re-triggers while pulsing are ignored', (t) => {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  const door = new DoorRelay(out, clock, { pulseMs: 2000, log: testLog });
  t.is(door.pulse(), 'opened');
  t.true(door.active);
  clock.advance(1000);
  t.is(door.pulse(), 'busy'); // does not extend the pulse
  clock.advance(1000);
  t.false(door.active);
  clock.advance(500);
  t.is(door.pulse(), 'opened');
  clock.advance(2000);
  t.deepEqual(show(out), ['on@0', 'off@2000', 'on@2500', 'off@4500']);
});

test('door relay: default pulse 3 s; close releases at once', (t) => {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  const door = new DoorRelay(out, clock);
  door.pulse();
  clock.advance(2999);
  t.true(out.on);
  clock.advance(1);
  t.false(out.on);
  door.pulse();
  clock.advance(100);
  door.close();
  t.false(out.on);
  t.true(out.closed);
  t.is(clock.pending, 0);
  t.false(door.active);
});

function pi4Sysfs(t: ExecutionContext): string {
  const root = mkdtempSync(join(tmpdir(), 'babel-gpio-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'gpiochip512');
  mkdirSync(dir);
  writeFileSync(join(dir, 'base'), '512\n');
  writeFileSync(join(dir, 'label'), 'pinctrl-bcm2711\n');
  writeFileSync(join(dir, 'ngpio'), '58\n');
  return root;
}

test('GPIO output: BCM to sysfs line, starts off, active low inverts the pin', (t) => {
  const bank = new FakeGpioBank();
  const root = pi4Sysfs(t);
  const led = new GpioOutput({ bcm: 27, log: testLog, sysfsRoot: root, gpioFactory: bank.factory });
  const relay = new GpioOutput({
    bcm: 22,
    activeLow: true,
    log: testLog,
    sysfsRoot: root,
    gpioFactory: bank.factory,
  });
  const ledPin = bank.get(512 + 27)!;
  const relayPin = bank.get(512 + 22)!;
  t.is(ledPin.direction(), 'out');
  t.is(ledPin.physical, 0);
  t.is(relayPin.physical, 1); // active low: off is high, from the start
  led.set(true);
  relay.set(true);
  t.is(ledPin.physical, 1);
  t.is(relayPin.physical, 0);
  relay.close();
  t.is(relayPin.physical, 1);
  t.false(relayPin.exported);
  relay.set(true); // after close: nothing, no throw
  t.is(bank.created.length, 2);
});

test('GPIO output: a pin that fails is reopened at the next set, never throwing', (t) => {
  const bank = new FakeGpioBank();
  const root = pi4Sysfs(t);
  bank.failNext = errno('EBUSY', 'export');
  const out = new GpioOutput({ bcm: 5, log: testLog, sysfsRoot: root, gpioFactory: bank.factory });
  t.is(bank.created.length, 0);
  out.set(true);
  const pin = bank.get(517)!;
  t.is(pin.physical, 1);
  pin.unexport(); // someone else released it: writes now fail
  t.notThrows(() => out.set(false));
  out.set(true);
  t.is(bank.get(517)!.physical, 1);
  t.is(bank.created.length, 2);
  const noChip = new GpioOutput({ bcm: 5, log: testLog, sysfsRoot: join(root, 'x') });
  t.notThrows(() => noChip.set(true));
  noChip.close();
});
