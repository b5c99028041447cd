import { once } from 'node:events';
import test, { type ExecutionContext } from 'ava';
import { SerialPortMock } from 'serialport';
import type { ButtonPress } from '../../../device/io/button.ts';
import {
  MAX_PANEL_LINE,
  PanelLineSplitter,
  parsePanelLine,
  type SerialFactory,
  SerialPanelButton,
  type SerialPanelOptions,
} from '../../../device/io/button-serial.ts';
import { FakeClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

const MockBinding = SerialPortMock.binding;

// --- the protocol, pure ---

const lines: ReadonlyArray<[string, ReturnType<typeof parsePanelLine>]> = [
  ['P 1', { kind: 'down', button: 1 }],
  ['R 1', { kind: 'up', button: 1 }],
  ['S 12', { kind: 'short', button: 12 }],
  ['L 999', { kind: 'long', button: 999 }],
  ['p 3', { kind: 'down', button: 3 }],
  ['  S   7 \r', { kind: 'short', button: 7 }],
  ['# babel-panel 1 4', { kind: 'comment' }],
  ['S', null],
  ['S 1000', null],
  ['S -1', null],
  ['S 1 2', null],
  ['X 1', null],
  ['S1', null],
  ['PRESS', null],
  ['S 0x1', null],
];
for (const [line, expected] of lines) {
  test(`[P-2] ${JSON.stringify(line)}`, (t) => {
    t.deepEqual(parsePanelLine(line), expected);
  });
}

test('[P-1] the same lines for a stream split at every offset', (t) => {
  const bytes = Buffer.from('# hi\nP 1\r\nR 1\n\nS 22\nL 3\n');
  const expected = ['# hi', 'P 1\r', 'R 1', 'S 22', 'L 3'];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const s = new PanelLineSplitter();
    t.deepEqual([...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))], expected);
  }
});

test('[P-1] an overlong line is dropped up to its LF and counted; framing resumes', (t) => {
  const s = new PanelLineSplitter();
  const long = 'x'.repeat(MAX_PANEL_LINE);
  t.deepEqual(s.push(Buffer.from(`S 1\n${long.slice(0, 20)}`)), ['S 1']);
  t.deepEqual(s.push(Buffer.from(`${long.slice(20)}yyyy`)), []);
  t.deepEqual(s.push(Buffer.from('zz\nS 2\n')), ['S 2']);
  t.is(s.overlong, 1);
  // The longest accepted line: 31 characters and the LF.
  t.deepEqual(s.push(Buffer.from(`${'#'.repeat(MAX_PANEL_LINE - 1)}\n`)), [
    '#'.repeat(MAX_PANEL_LINE - 1),
  ]);
  t.is(s.overlong, 1);
});

test('[P-1] random bytes never throw and never yield an overlong line', (t) => {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const s = new PanelLineSplitter();
  let seen = 0;
  for (let i = 0; i < 500; i++) {
    const chunk = Buffer.from(
      Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
        rand() < 0.08 ? 0x0a : Math.floor(rand() * 256),
      ),
    );
    for (const line of s.push(chunk)) {
      seen++;
      t.true(line.length < MAX_PANEL_LINE);
      t.notThrows(() => parsePanelLine(line));
    }
  }
  t.true(seen > 0);
  t.true(s.overlong > 0);
});

// --- through serialport's own mock binding ---

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** Polls a condition every few ms, for at most `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let nextPort = 0;

function setup(t: ExecutionContext, over: Partial<SerialPanelOptions> = {}) {
  const path = `/dev/ttyPANEL${nextPort++}`;
  MockBinding.createPort(path, { record: true });
  const clock = new FakeClock();
  const ports: SerialPortMock[] = [];
  /** While false, the factory's ports point nowhere, so opening fails as when unplugged. */
  const plug = { in: true };
  const factory: SerialFactory = (p, baudRate) => {
    const port = new SerialPortMock({
      path: plug.in ? p : `${p}-unplugged`,
      baudRate,
      autoOpen: false,
    });
    ports.push(port);
    return port;
  };
  const button = new SerialPanelButton({
    path,
    clock,
    log: testLog,
    serialFactory: factory,
    retryMs: 2000,
    targets: { '1': 'flat-1', '2': 'flat-2' },
    ...over,
  });
  const presses: ButtonPress[] = [];
  const faults: Error[] = [];
  button.on('press', (p) => presses.push(p));
  button.on('fault', (e) => faults.push(e));
  t.teardown(() => button.stop());
  /** Sends bytes from the panel on the current port. */
  const send = (data: string) => ports.at(-1)!.port!.emitData(data);
  const started = async () => {
    const ready = once(button, 'ready');
    button.start();
    await within(ready, 3000, 'panel ready');
  };
  return { path, clock, button, ports, plug, presses, faults, send, started };
}

test('panel-timed presses, split across chunks, each button to its own target', async (t) => {
  const s = setup(t);
  await s.started();
  t.is(s.ports[0]!.baudRate, 9600);
  s.send('S ');
  s.send('1\nL');
  s.send(' 2\r\n# ok\n');
  await until(() => s.button.stats.lines === 3, 3000, 'three lines');
  t.deepEqual(s.presses, [
    { long: false, target: 'flat-1' },
    { long: true, target: 'flat-2' },
  ]);
  t.is(s.button.label, `serial:${s.path}:9600`);
  t.deepEqual(s.ports[0]!.port!.recording, Buffer.alloc(0)); // [P-5] the device never writes
});

test('[P-4] P/R timed by the device: long at one second while held', async (t) => {
  const s = setup(t);
  await s.started();
  s.send('P 1\n');
  await until(() => s.button.stats.lines === 1, 3000, 'P');
  s.clock.advance(999);
  t.deepEqual(s.presses, []);
  s.clock.advance(1);
  t.deepEqual(s.presses, [{ long: true, target: 'flat-1' }]);
  s.send('R 1\nP 2\n');
  await until(() => s.button.stats.lines === 3, 3000, 'R, P');
  s.clock.advance(300);
  s.send('R 2\n');
  await until(() => s.button.stats.lines === 4, 3000, 'R');
  t.deepEqual(s.presses, [
    { long: true, target: 'flat-1' },
    { long: false, target: 'flat-2' },
  ]);
});

test('[P-4] a lost R: the next P ends the press and starts another', async (t) => {
  const s = setup(t);
  await s.started();
  s.send('P 1\n');
  await until(() => s.button.stats.lines === 1, 3000, 'P');
  s.clock.advance(1500);
  s.send('P 1\n');
  await until(() => s.button.stats.lines === 2, 3000, 'P again');
  s.clock.advance(100);
  s.send('R 1\n');
  await until(() => s.button.stats.lines === 3, 3000, 'R');
  t.deepEqual(s.presses, [
    { long: true, target: 'flat-1' },
    { long: false, target: 'flat-1' },
  ]);
});

test('[P-2][P-3] unknown lines and unmapped buttons are counted, not pressed', async (t) => {
  const s = setup(t);
  await s.started();
  s.send(`HELLO\nS 9\nX 1\nP 7\n${'z'.repeat(40)}\nS 2\n`);
  await until(() => s.button.stats.lines === 5, 3000, 'five lines');
  t.deepEqual(s.presses, [{ long: false, target: 'flat-2' }]);
  t.like(s.button.stats, {
    lines: 5,
    presses: 1,
    unknownLines: 2,
    unknownButtons: 2,
    overlongLines: 1,
  });
});

test('[P-3] without a mapping every button is the one button', async (t) => {
  const s = setup(t, { targets: {} });
  await s.started();
  s.send('S 5\nL 6\n');
  await until(() => s.presses.length === 2, 3000, 'two presses');
  t.deepEqual(s.presses, [{ long: false }, { long: true }]);
});

test('[P-3][G-2] a page key emits its group as `page`, the other keys their target', async (t) => {
  const s = setup(t, { targets: { '1': 'flat-1', '9': { page: 'all-flats' } } });
  await s.started();
  s.send('S 9\nS 1\nL 9\nP 9\n');
  await until(() => s.button.stats.lines === 4, 3000, 'four lines');
  s.clock.advance(200);
  s.send('R 9\n');
  await until(() => s.presses.length === 4, 3000, 'the P/R press');
  t.deepEqual(s.presses, [
    { long: false, page: 'all-flats' },
    { long: false, target: 'flat-1' },
    { long: true, page: 'all-flats' },
    { long: false, page: 'all-flats' },
  ]);
  t.like(s.button.stats, { presses: 4, unknownButtons: 0 });
});

test('[P-6] the port closing and coming back: faults, retries, then presses again', async (t) => {
  const s = setup(t, { baudRate: 115200 });
  await s.started();
  t.is(s.ports[0]!.baudRate, 115200);
  s.send('P 1\n');
  await until(() => s.button.stats.lines === 1, 3000, 'P');

  // The port goes away with a button held: the press is forgotten.
  s.plug.in = false;
  const lost = once(s.button, 'fault');
  s.ports[0]!.close();
  await within(lost, 3000, 'fault on close');
  s.clock.advance(1500);
  t.deepEqual(s.presses, []);

  // Still unplugged at the first retry: another fault, another retry.
  const refused = once(s.button, 'fault');
  s.clock.advance(500);
  const [err] = await within(refused, 3000, 'fault on reopen');
  t.regex((err as Error).message, /does not exist/);
  t.is(s.ports.length, 2);

  s.plug.in = true;
  const back = once(s.button, 'ready');
  s.clock.advance(2000);
  await within(back, 3000, 'ready again');
  t.is(s.ports.length, 3);
  s.send('S 2\n');
  await until(() => s.presses.length === 1, 3000, 'press after reconnect');
  t.deepEqual(s.presses, [{ long: false, target: 'flat-2' }]);
  t.is(s.faults.length, 2);
  t.is(s.button.stats.opens, 2);
});

test('a port that does not exist at start is retried until it does', async (t) => {
  const s = setup(t);
  s.plug.in = false;
  const fault = once(s.button, 'fault');
  s.button.start();
  await within(fault, 3000, 'first fault');
  s.plug.in = true;
  const ready = once(s.button, 'ready');
  s.clock.advance(2000);
  await within(ready, 3000, 'ready');
  s.send('L 1\n');
  await until(() => s.presses.length === 1, 3000, 'press');
  t.deepEqual(s.presses, [{ long: true, target: 'flat-1' }]);
});

test('stop closes the port and cancels timers; a second start reopens it', async (t) => {
  const s = setup(t);
  await s.started();
  s.send('P 1\n');
  await until(() => s.button.stats.lines === 1, 3000, 'P');
  await s.button.stop();
  t.false(s.ports[0]!.isOpen);
  t.is(s.clock.pending, 0);
  s.clock.advance(5000);
  t.deepEqual(s.faults, []);
  t.deepEqual(s.presses, []);
  await s.started();
  t.true(s.ports[1]!.isOpen);
});
