import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { EvdevButton } from '../../../device/io/button-evdev.ts';
import { GpioButton } from '../../../device/io/button-gpio.ts';
import { SerialPanelButton } from '../../../device/io/button-serial.ts';
import { StdinButton } from '../../../device/io/button-stdin.ts';
import { FakeGpioBank } from '../../../device/io/fake-gpio.ts';
import {
  type ButtonSpec,
  ButtonSpecError,
  createButton,
  formatButtonSpec,
  parseButtonSpec,
} from '../../../device/io/spec.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

const BY_PATH = '/dev/serial/by-path/platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0-port0';

const good: ReadonlyArray<[string, ButtonSpec, string]> = [
  ['stdin', { kind: 'stdin' }, 'stdin'],
  ['gpio:17', { kind: 'gpio', bcm: 17, activeLow: false }, 'gpio:17'],
  ['gpio:4:active_low', { kind: 'gpio', bcm: 4, activeLow: true }, 'gpio:4:active_low'],
  ['gpio:0', { kind: 'gpio', bcm: 0, activeLow: false }, 'gpio:0'],
  [
    'evdev:/dev/input/event0',
    { kind: 'evdev', path: '/dev/input/event0', keycode: 256 },
    'evdev:/dev/input/event0:256',
  ],
  [
    'evdev:/dev/input/event0:28',
    { kind: 'evdev', path: '/dev/input/event0', keycode: 28 },
    'evdev:/dev/input/event0:28',
  ],
  [
    'evdev:/dev/input/event2:KEY_ENTER',
    { kind: 'evdev', path: '/dev/input/event2', keycode: 28 },
    'evdev:/dev/input/event2:28',
  ],
  [
    'evdev:/dev/input/event2:BTN_3',
    { kind: 'evdev', path: '/dev/input/event2', keycode: 259 },
    'evdev:/dev/input/event2:259',
  ],
  [
    'evdev:/dev/input/by-path/platform-button@11-event',
    { kind: 'evdev', path: '/dev/input/by-path/platform-button@11-event', keycode: 256 },
    'evdev:/dev/input/by-path/platform-button@11-event:256',
  ],
  [
    'serial:/dev/ttyACM0',
    { kind: 'serial', path: '/dev/ttyACM0', baudRate: 9600 },
    'serial:/dev/ttyACM0:9600',
  ],
  [
    'serial:/dev/ttyUSB0:115200',
    { kind: 'serial', path: '/dev/ttyUSB0', baudRate: 115200 },
    'serial:/dev/ttyUSB0:115200',
  ],
  [
    `serial:${BY_PATH}`,
    { kind: 'serial', path: BY_PATH, baudRate: 9600 },
    `serial:${BY_PATH}:9600`,
  ],
  [
    `serial:${BY_PATH}:19200`,
    { kind: 'serial', path: BY_PATH, baudRate: 19200 },
    `serial:${BY_PATH}:19200`,
  ],
];

for (const [text, spec, canonical] of good) {
  test(`parses ${text}`, (t) => {
    t.deepEqual(parseButtonSpec(text), spec);
    t.is(formatButtonSpec(spec), canonical);
    t.deepEqual(parseButtonSpec(canonical), spec); // round trip
  });
}

const bad: ReadonlyArray<[string, RegExp]> = [
  ['', /expected gpio:BCM\[:active_low\], evdev/],
  ['button', /expected gpio:BCM/],
  ['GPIO:17', /expected gpio:BCM/],
  ['stdin:x', /stdin takes no options/],
  ['gpio', /expected gpio:BCM\[:active_low\] with BCM a GPIO number 0-63/],
  ['gpio:', /GPIO number/],
  ['gpio:x', /GPIO number/],
  ['gpio:64', /GPIO number 0-63/],
  ['gpio:-1', /GPIO number/],
  ['gpio:17:active_high', /the only gpio option is active_low/],
  ['gpio:17:active_low:x', /the only gpio option is active_low/],
  ['evdev:', /expected evdev:PATH\[:KEYCODE\]/],
  ['evdev:/dev/input/event0:KEY_NOPE', /unknown key code KEY_NOPE/],
  ['evdev:/dev/input/event0:768', /unknown key code 768/],
  ['serial:', /expected serial:PATH\[:BAUD\]/],
  ['serial:/dev/ttyUSB0:0', /baud rate 0 out of range/],
  ['serial:/dev/ttyUSB0:99999999', /out of range/],
];

for (const [text, message] of bad) {
  test(`refuses ${JSON.stringify(text)}`, (t) => {
    const err = t.throws(() => parseButtonSpec(text), { instanceOf: ButtonSpecError, message });
    t.true(err.message.startsWith(`"${text}": `));
  });
}

test('createButton makes each backend, labelled with the canonical spec', (t) => {
  const deps = { clock: new FakeClock(), log: testLog, stdin: new PassThrough() };
  const cases: ReadonlyArray<[string, new (...args: never[]) => unknown]> = [
    ['stdin', StdinButton],
    ['gpio:17:active_low', GpioButton],
    ['evdev:/dev/input/event0', EvdevButton],
    ['serial:/dev/ttyUSB0:115200', SerialPanelButton],
  ];
  for (const [text, kind] of cases) {
    const spec = parseButtonSpec(text);
    const button = createButton(spec, deps);
    t.true(button instanceof kind, text);
    t.is(button.label, formatButtonSpec(spec));
  }
});

test('createButton wires the seams: a gpio button on a fake tree and fake Gpio presses', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'babel-gpio-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'gpiochip571'));
  writeFileSync(join(root, 'gpiochip571', 'base'), '571\n');
  writeFileSync(join(root, 'gpiochip571', 'label'), 'pinctrl-rp1\n');
  writeFileSync(join(root, 'gpiochip571', 'ngpio'), '54\n');
  const clock = new FakeClock();
  const bank = new FakeGpioBank();
  const button = createButton(parseButtonSpec('gpio:4:active_low'), {
    clock,
    log: testLog,
    sysfsRoot: root,
    gpioFactory: bank.factory,
    debounceMs: 50,
    longPressMs: 400,
  });
  const got: string[] = [];
  button.on('press', (p) => got.push(p.long ? 'long' : 'short'));
  button.start();
  await new Promise((r) => setImmediate(r));
  const pin = bank.get(575)!;
  pin.drive(0);
  clock.advance(40);
  pin.drive(1); // 40 ms < the 50 ms debounce: ignored
  clock.advance(100);
  pin.drive(0);
  clock.advance(400); // long at 400 ms
  pin.drive(1);
  clock.advance(100);
  t.deepEqual(got, ['long']);
  await button.stop();
});
