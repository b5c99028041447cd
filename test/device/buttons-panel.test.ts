/**
 * A serial panel's keys [P-3]: each calls a user or group, or pages a group [G-2]
 * (`panel: { "9": { page: all-flats } }`). The config schema (good and bad values, one
 * `path: message` line each), and the device's buttons turning a page key's press into
 * the same `page_press` input as `page.button`, through serialport's mock binding.
 */
import test, { type ExecutionContext } from 'ava';
import { SerialPortMock } from 'serialport';
import { pressInput, startButtons } from '../../device/buttons.ts';
import type { Input } from '../../device/call/machine.ts';
import { type DeviceConfig, loadDeviceConfig } from '../../device/config-schema.ts';
import type { SerialFactory } from '../../device/io/button-serial.ts';
import { FakeClock } from '../../shared/clock.ts';
import { ConfigError } from '../../shared/config/errors.ts';
import { testLog } from '../helpers/log.ts';

/** The config from a device.yaml (and flags), or its problems. */
function outcome(file: string, argv: string[] = []): DeviceConfig | string[] {
  try {
    const r = loadDeviceConfig([...argv, '--config', 'device.yaml'], {}, () => file);
    if (r.kind !== 'config') throw new Error(r.kind);
    return r.config;
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

// --- the config schema ---

const good: ReadonlyArray<[string, string, DeviceConfig['panel']]> = [
  ['no panel', '', {}],
  // As before: every key calls its user or group.
  ['keys calling users', 'panel:\n  "1": flat-1\n  2: flat-2\n', { '1': 'flat-1', '2': 'flat-2' }],
  ['a key calling a group', 'panel:\n  1: family\n', { '1': 'family' }],
  ['digits as a name', 'panel:\n  1: 202\n', { '1': '202' }],
  [
    'a lobby: keys per flat and one paging them all',
    'panel:\n  1: flat-1\n  2: flat-2\n  9: { page: all-flats }\n',
    { '1': 'flat-1', '2': 'flat-2', '9': { page: 'all-flats' } },
  ],
  ['a page key, block style', 'panel:\n  "0":\n    page: floors\n', { '0': { page: 'floors' } }],
  ['a page key of digits', 'panel:\n  9: { page: 101 }\n', { '9': { page: '101' } }],
  [
    'only page keys',
    'panel:\n  998: { page: a }\n  999: { page: b }\n',
    {
      '998': { page: 'a' },
      '999': { page: 'b' },
    },
  ],
];
for (const [name, file, panel] of good) {
  test(`[P-3] good panel: ${name}`, (t) => {
    const c = outcome(file);
    if (Array.isArray(c)) return t.fail(c.join('\n'));
    t.deepEqual(c.panel, panel);
  });
}

const CALLS = 'must be the user or group the key calls, or {page: GROUP}';
const bad: ReadonlyArray<[string, string, string]> = [
  ['a name with a space', 'panel:\n  1: Flat 1\n', `panel[1]: ${CALLS}`],
  ['page of no name', 'panel:\n  9: { page: }\n', `panel[9]: ${CALLS}`],
  ['page of a bad name', 'panel:\n  9: { page: All Flats }\n', `panel[9]: ${CALLS}`],
  ['a misspelt page', 'panel:\n  9: { pgae: floors }\n', `panel[9]: ${CALLS}`],
  ['page with more', 'panel:\n  9: { page: floors, loud: true }\n', `panel[9]: ${CALLS}`],
  ['page as one word', 'panel:\n  9: page:floors\n', `panel[9]: ${CALLS}`],
  ['an empty mapping', 'panel:\n  9: {}\n', `panel[9]: ${CALLS}`],
  ['a list', 'panel:\n  9: [floors]\n', `panel[9]: ${CALLS}`],
  [
    'a key that is no number',
    'panel:\n  lobby: flat-1\n',
    'panel.lobby: is not a button number (0-999)',
  ],
  ['a key past 999', 'panel:\n  1000: flat-1\n', 'panel[1000]: is not a button number (0-999)'],
  [
    'not a mapping',
    'panel: flat-1\n',
    'panel: must be a mapping of button numbers to the user or group each calls, or {page: GROUP}',
  ],
  [
    'a null key',
    'panel:\n  9: ~\n',
    `panel.9: is null (YAML reads null and ~ as no value); ${CALLS}, or leave it out for the default`,
  ],
  [
    'page: nested in one line',
    'panel:\n  9: page: floors\n',
    'device.yaml: line 2: nested mappings are not allowed in compact mappings',
  ],
];
for (const [name, file, line] of bad) {
  test(`[P-3] bad panel: ${name}`, (t) => {
    t.deepEqual(outcome(file), [line]);
  });
}

test('[P-3] every bad key is its own line', (t) => {
  t.deepEqual(outcome('panel:\n  1: Flat 1\n  2: flat-2\n  x: y\n  9: { page: A }\n'), [
    `panel[1]: ${CALLS}`,
    `panel[9]: ${CALLS}`,
    'panel.x: is not a button number (0-999)',
  ]);
});

// --- a panel's presses as the call machine's inputs ---

test('[G-2] pressInput: a page key is page_press, a call key is press', (t) => {
  t.deepEqual(pressInput({ long: false, page: 'all-flats' }), {
    kind: 'page_press',
    target: 'all-flats',
  });
  t.deepEqual(pressInput({ long: true, page: 'all-flats' }), {
    kind: 'page_press',
    target: 'all-flats',
  });
  t.deepEqual(pressInput({ long: false, target: 'flat-1' }), {
    kind: 'press',
    long: false,
    target: 'flat-1',
  });
  t.deepEqual(pressInput({ long: true }), { kind: 'press', long: true });
});

const MockBinding = SerialPortMock.binding;
let nextPort = 0;

/** The device's buttons from a device.yaml, its panel on a mock port. */
async function panelButtons(t: ExecutionContext, yaml: string) {
  const path = `/dev/ttyLOBBY${nextPort++}`;
  MockBinding.createPort(path, { record: true });
  const c = outcome(`button: [serial:${path}]\n${yaml}`);
  if (Array.isArray(c)) throw new Error(c.join('\n'));
  const ports: SerialPortMock[] = [];
  const serialFactory: SerialFactory = (p, baudRate) => {
    const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
    ports.push(port);
    return port;
  };
  const inputs: Input[] = [];
  const doorKeys: number[] = [];
  const clock = new FakeClock();
  const components = startButtons(
    c,
    { log: testLog, serialFactory },
    {
      clock,
      log: testLog,
      input: (i) => inputs.push(i),
      doorKey: () => doorKeys.push(clock.now()),
    },
  );
  t.teardown(async () => {
    for (const x of components.reverse()) await x.stop();
  });
  await until(() => ports[0]?.isOpen === true, 'the panel port opens');
  /** Sends lines from the panel and waits until `n` inputs in all have come. */
  const send = async (data: string, n: number) => {
    ports[0]!.port!.emitData(data);
    await until(() => inputs.length >= n, `${n} inputs`);
  };
  return { inputs, doorKeys, send, clock, ports };
}

/** Polls a condition every few ms, for at most 3 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within 3000 ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('[G-2] a lobby panel: the "all flats" key pages the group, the others call their flat', async (t) => {
  const p = await panelButtons(t, 'panel:\n  1: flat-1\n  2: flat-2\n  9: { page: all-flats }\n');
  await p.send('S 9\nS 1\nL 2\nL 9\nS 9\n', 5);
  t.deepEqual(p.inputs, [
    { kind: 'page_press', target: 'all-flats' },
    { kind: 'press', long: false, target: 'flat-1' },
    { kind: 'press', long: true, target: 'flat-2' },
    { kind: 'page_press', target: 'all-flats' },
    { kind: 'page_press', target: 'all-flats' },
  ]);
  t.deepEqual(p.ports[0]!.port!.recording, Buffer.alloc(0), '[P-5] the device never writes');
  t.deepEqual(p.doorKeys, []);
});

test('[G-2][P-4] a page key timed by the device (P/R): one page_press per press', async (t) => {
  const p = await panelButtons(t, 'panel:\n  9: { page: all-flats }\n');
  p.ports[0]!.port!.emitData('P 9\n');
  // Held past the long-press threshold: the press is reported while still down.
  await until(() => p.clock.pending > 0, 'the long-press timer');
  p.clock.advance(1000);
  t.deepEqual(p.inputs, [{ kind: 'page_press', target: 'all-flats' }]);
  await p.send('R 9\nP 9\nR 9\n', 2);
  t.deepEqual(p.inputs, [
    { kind: 'page_press', target: 'all-flats' },
    { kind: 'page_press', target: 'all-flats' },
  ]);
});

test('[P-3] with page keys mapped, an unmapped key is ignored, not the one button', async (t) => {
  const p = await panelButtons(t, 'target: caretaker\npanel:\n  9: { page: all-flats }\n');
  await p.send('S 3\nS 9\n', 1);
  t.deepEqual(p.inputs, [{ kind: 'page_press', target: 'all-flats' }]);
});

test('[P-3] without a mapping every key is still the one button', async (t) => {
  const p = await panelButtons(t, 'target: caretaker\n');
  await p.send('S 3\nL 9\n', 2);
  t.deepEqual(p.inputs, [
    { kind: 'press', long: false },
    { kind: 'press', long: true },
  ]);
});
