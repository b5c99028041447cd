import test from 'ava';
import { FakeAlsaDevice } from '../../../device/audio/fake-alsa.ts';
import { FakeClock } from '../../../shared/clock.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Opens a fake instance and records its events as [name, value] pairs. */
function open(mic: FakeAlsaDevice, opts = {}) {
  const events: [string, unknown][] = [];
  const native = new mic.module({ channels: 1, rate: 48000, periodSize: 480, ...opts });
  for (const name of [
    'periodTime',
    'rateDeviating',
    'overrun',
    'shortRead',
    'readError',
    'error',
    'close',
  ]) {
    native.on(name, (value: unknown) => events.push([name, value]));
  }
  native.on('audio', (data: Buffer) => events.push(['audio', data.length]));
  return { native, events };
}

test('like alsa-capture: periodTime as a string, then one audio period per period time', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  await settle();
  t.deepEqual(events, [['periodTime', '10000']]);
  clock.advance(30);
  t.deepEqual(events.slice(1), [
    ['audio', 960],
    ['audio', 960],
    ['audio', 960],
  ]);
  native.close();
  await settle();
  t.deepEqual(events.at(-1), ['close', undefined]);
  t.is(mic.openInstances, 0);
});

test('stereo interleaves the tone; other rates deviate to the card rate', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock, rate: 44100 });
  const frames: Buffer[] = [];
  const { native, events } = open(mic, { channels: 2, rate: 48000, periodSize: 441 });
  native.on('audio', (d: Buffer) => frames.push(d));
  await settle();
  t.deepEqual(events, [
    ['rateDeviating', '44100'],
    ['periodTime', '10000'],
  ]);
  clock.advance(10);
  const f = frames[0]!;
  t.is(f.length, 441 * 4);
  for (let i = 0; i < 441; i++) t.is(f.readInt16LE(i * 4), f.readInt16LE(i * 4 + 2));
  native.close();
});

test('overrun: periods lost, then overrun and a stale copy of the last period', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const audio: Buffer[] = [];
  const { native, events } = open(mic);
  native.on('audio', (d: Buffer) => audio.push(d));
  await settle();
  clock.advance(10);
  mic.overrun(2);
  clock.advance(20);
  t.deepEqual(
    events.slice(1).map(([name]) => name),
    ['audio', 'overrun', 'audio'],
  );
  t.deepEqual(audio[1], audio[0]);
  native.close();
});

test('unplug: readError and stale audio every period until close(); then opens fail', async (t) => {
  const clock = new FakeClock();
  const mic = new FakeAlsaDevice({ clock });
  const { native, events } = open(mic);
  await settle();
  mic.unplug();
  clock.advance(20);
  t.deepEqual(events.slice(1), [
    ['readError', 'No such device'],
    ['audio', 960],
    ['readError', 'No such device'],
    ['audio', 960],
  ]);
  mic.plug();
  clock.advance(10);
  t.is(events.at(-2)?.[0], 'readError', 'a lost handle stays lost');
  native.close();
  await settle();
  t.deepEqual(events.at(-1), ['close', undefined]);
  mic.unplug();
  const again = open(mic);
  await settle();
  t.is(again.events.length, 1);
  t.is(again.events[0]?.[0], 'error');
  t.regex(String(again.events[0]?.[1]), /Unable to open PCM device: No such file or directory/);
  t.is(mic.opens, 2);
});

test('the module option checks and messages', (t) => {
  const mic = new FakeAlsaDevice({ clock: new FakeClock() });
  t.throws(() => new mic.module({ rate: 1000 }), { message: /rate has to be a value between/ });
  t.throws(() => new mic.module({ channels: 0 }), { message: /channels has to be a positive/ });
  t.throws(() => new mic.module({ format: 'S24_LE' }), { message: /format not supported/ });
});
