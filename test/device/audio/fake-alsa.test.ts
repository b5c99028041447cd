import test from 'ava';
import type { CaptureOptions } from '../../../device/audio/capture-alsa.ts';
import { FakeAlsaDevice } from '../../../device/audio/fake-alsa.ts';
import { FakeClock } from '../../../shared/clock.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Opens a fake instance and records its events as [kind, value] pairs (data: its length). */
function open(mic: FakeAlsaDevice, opts: Partial<CaptureOptions> = {}, pcm = 'usb') {
  const events: [string, unknown][] = [];
  const data: Buffer[] = [];
  const native = new mic.module(pcm, { periodSize: 480, ...opts }, (kind, arg) => {
    if (kind === 'data') {
      data.push(arg);
      events.push([kind, arg.length]);
    } else if (kind === 'error') {
      events.push([kind, `${arg.message} (${arg.errno})`]);
    } else {
      events.push([kind, arg]);
    }
  });
  return { native, events, data };
}

test('like the addon: open (what was chosen), then one data period per period time', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  t.deepEqual(events, [], 'events never arrive inside the constructor');
  await settle();
  t.deepEqual(events, [['open', { rate: 48000, periodSize: 480, bufferSize: 1920 }]]);
  clock.advance(30);
  t.deepEqual(events.slice(1), [
    ['data', 960],
    ['data', 960],
    ['data', 960],
  ]);
  native.close();
  native.close();
  await settle();
  t.deepEqual(events.at(-1), ['close', undefined]);
  t.is(events.filter(([k]) => k === 'close').length, 1);
  t.is(mic.openInstances, 0);
});

test('a card with another rate reports it in open; the periods are continuous tone', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock, rate: 44100, toneHz: 441 });
  const { native, events, data } = open(mic, { periodSize: 441, periods: 2 });
  await settle();
  t.deepEqual(events, [['open', { rate: 44100, periodSize: 441, bufferSize: 882 }]]);
  clock.advance(20);
  t.is(data.length, 2);
  // 441 Hz at 44.1 kHz: exactly 100 samples a cycle, so period 2 starts where 1 left off.
  t.is(data[1]?.readInt16LE(0), data[0]?.readInt16LE(41 * 2));
  native.close();
});

test('overrun and backlog: the periods lost, one xrun, then fresh audio', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  await settle();
  clock.advance(10);
  mic.overrun(2);
  clock.advance(30);
  mic.fallBehind(3);
  clock.advance(40);
  t.deepEqual(events.slice(1), [
    ['data', 960],
    ['xrun', { cause: 'overrun', periods: 0 }],
    ['data', 960],
    ['xrun', { cause: 'backlog', periods: 3 }],
    ['data', 960],
  ]);
  native.close();
});

test('unplug: error (ENODEV) then close; opens fail until plugged back', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  await settle();
  clock.advance(10);
  mic.unplug();
  t.deepEqual(events.slice(1), [
    ['data', 960],
    ['error', 'snd_pcm_readi: No such device (-19)'],
    ['close', undefined],
  ]);
  native.close(); // safe after the end
  clock.advance(100);
  t.is(events.length, 4);
  const again = open(mic);
  await settle();
  t.deepEqual(again.events, [
    ['error', 'snd_pcm_open: No such file or directory (-2)'],
    ['close', undefined],
  ]);
  mic.plug();
  const third = open(mic);
  await settle();
  t.is(third.events[0]?.[0], 'open');
  third.native.close();
  t.is(mic.opens, 3);
});

test('close() before the open completes: no open event, just close', async (t) => {
  const mic = new FakeAlsaDevice({ clock: new FakeClock() });
  const { native, events } = open(mic);
  native.close();
  await settle();
  t.deepEqual(events, [['close', undefined]]);
  t.is(mic.openInstances, 0);
});

test('stall: close() never completes, as with a read stuck in a plugin', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  await settle();
  mic.stall();
  native.close();
  clock.advance(1000);
  await settle();
  t.deepEqual(events, [['open', { rate: 48000, periodSize: 480, bufferSize: 1920 }]]);
});

test("the addon's argument checks and messages", (t) => {
  const mic = new FakeAlsaDevice({ clock: new FakeClock() });
  const cb = () => {};
  t.throws(() => new mic.module('', { periodSize: 480 }, cb), {
    instanceOf: RangeError,
    message: 'pcm must be a PCM name of 1 to 254 bytes',
  });
  t.throws(() => new mic.module('usb', { periodSize: 8 }, cb), {
    instanceOf: RangeError,
    message: 'options.periodSize must be an integer from 16 to 48000',
  });
  t.throws(() => new mic.module('usb', { periodSize: 480, periods: 1 }, cb), {
    instanceOf: RangeError,
    message: 'options.periods must be an integer from 2 to 64',
  });
  t.throws(() => new mic.module('usb', {} as CaptureOptions, cb), {
    instanceOf: TypeError,
    message: 'options.periodSize is required',
  });
});
