import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeWav } from '../../device/audio/wav.ts';
import { EV_KEY, encodeInputEvent } from '../../device/io/button-evdev.ts';
import { dominantFrequency, rms } from '../../device/media/tone.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { spawnHubProcess, startHub, tempDir } from '../helpers/hub.ts';

// Each test runs two device processes (and some a hub process); run one test at a time so
// a slow 2-core machine is not asked to start ten Node processes at once.

/** Dominant frequency of each loud 200 ms window of a WAV written by `file:` playback. */
function tones(file: string): number[] {
  const pcm = decodeWav(fs.readFileSync(file));
  const win = 48000 * 2 * 0.2;
  const out: number[] = [];
  for (let o = 0; o + win <= pcm.length; o += win) {
    const w = pcm.subarray(o, o + win);
    if (rms(w) > 300) out.push(dominantFrequency(w, 48000));
  }
  return out;
}

const near = (hz: number, target: number) => Math.abs(hz - target) <= 3;

/** Bytes a `file:` speaker holds so far (it writes each frame as it plays it). */
const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/**
 * Resolves once `file` holds `ms` more audio than at `fromBytes`: a phase of a call lasts
 * as much played audio as it needs, however slowly a busy machine plays it.
 */
async function played(file: string, fromBytes: number, ms: number, within = 30_000) {
  const want = fromBytes + (48000 * 2 * ms) / 1000;
  const deadline = Date.now() + within;
  while (size(file) < want) {
    if (Date.now() > deadline) throw new Error(`${file}: not ${ms} ms of audio played`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pair(port: number, dir: string, extraDoor: string[] = [], extraKitchen: string[] = []) {
  const door = new DeviceProcess('door', [
    '--hub',
    `127.0.0.1:${port}`,
    '--media-port',
    '0',
    '--capture',
    'tone:440',
    '--playback',
    `file:${path.join(dir, 'door.wav')}`,
    '--button',
    'stdin',
    '--target',
    'kitchen',
    ...extraDoor,
  ]);
  const kitchen = new DeviceProcess('kitchen', [
    '--hub',
    `127.0.0.1:${port}`,
    '--media-port',
    '0',
    '--capture',
    'tone:1000',
    '--playback',
    `file:${path.join(dir, 'kitchen.wav')}`,
    '--button',
    'stdin',
    ...extraKitchen,
  ]);
  return { door, kitchen };
}

test.serial('press, ring, accept, audio both ways at the right frequencies, hang up', async (t) => {
  const dir = tempDir();
  const { hub, stop } = await startHub();
  const { door, kitchen } = pair(hub.textPort, dir);
  try {
    await door.waitFor(/connected to the hub/, 20_000);
    await kitchen.waitFor(/connected to the hub/, 20_000);
    const doorWav = path.join(dir, 'door.wav');
    const kitchenWav = path.join(dir, 'kitchen.wav');
    door.press();
    await kitchen.waitFor(/door is calling/);
    // Let it ring a moment, as people do: 1.2 s of chime played (after the 44-byte header).
    await played(kitchenWav, 44, 1200);
    kitchen.press();
    await door.waitFor(/talking with kitchen/);
    await kitchen.waitFor(/talking with door/);
    // They talk until each speaker has played 1.5 s more.
    await Promise.all([
      played(doorWav, size(doorWav), 1500),
      played(kitchenWav, size(kitchenWav), 1500),
    ]);
    door.press();
    await door.waitFor(/hung up on kitchen/);
    await kitchen.waitFor(/call with door ended/);
  } finally {
    t.is(await door.stop(), 0);
    t.is(await kitchen.stop(), 0);
    await stop();
  }
  // The door heard its ring-back, then the kitchen's 1 kHz; the kitchen its chime, then 440 Hz.
  const atDoor = tones(path.join(dir, 'door.wav'));
  const atKitchen = tones(path.join(dir, 'kitchen.wav'));
  t.true(
    atDoor.some((f) => near(f, 425)),
    `door heard ${atDoor}`,
  );
  t.true(atDoor.filter((f) => near(f, 1000)).length >= 4, `door heard ${atDoor}`);
  t.true(
    atKitchen.some((f) => near(f, 660)),
    `kitchen heard ${atKitchen}`,
  );
  t.true(atKitchen.filter((f) => near(f, 440)).length >= 4, `kitchen heard ${atKitchen}`);
  t.false(
    atDoor.some((f) => near(f, 440)),
    'no echo of its own microphone',
  );
});

test.serial(
  'hub restart while idle (SIGTERM) and while in a call (kill -9): devices end the call and come back',
  async (t) => {
    const dir = tempDir();
    const dataDir = tempDir();
    let hub = await spawnHubProcess(['--text-port', '0'], dataDir);
    const port = hub.textPort;
    const { door, kitchen } = pair(port, dir);
    try {
      await door.waitFor(/connected to the hub/, 20_000);
      await kitchen.waitFor(/connected to the hub/, 20_000);

      // Idle: a clean restart.
      let mark = door.events.length;
      await hub.kill('SIGTERM');
      await door.waitFor(/lost the hub/, 8000, mark);
      hub = await spawnHubProcess(['--text-port', String(port)], dataDir);
      await door.waitFor(/connected to the hub/, 8000, mark);
      await kitchen.waitFor(
        /connected to the hub/,
        8000,
        kitchen.events.findLastIndex((e) => /lost the hub/.test(e)),
      );

      // In a call: the hub dies without a word; each device ends the call on its own.
      mark = door.events.length;
      const kmark = kitchen.events.length;
      door.press();
      await kitchen.waitFor(/door is calling/, 8000, kmark);
      kitchen.press();
      await door.waitFor(/talking with kitchen/, 8000, mark);
      await hub.kill('SIGKILL');
      await door.waitFor(/hub unreachable/, 8000, mark);
      await kitchen.waitFor(/hub unreachable/, 8000, kmark);
      hub = await spawnHubProcess(['--text-port', String(port)], dataDir);
      const back = door.events.length;
      await door.waitFor(/connected to the hub/, 8000, back);
      await kitchen.waitFor(/connected to the hub/, 8000, kmark);
      // And calls work again.
      const again = kitchen.events.length;
      door.press();
      await kitchen.waitFor(/door is calling/, 8000, again);
      t.pass();
    } finally {
      await door.stop();
      await kitchen.stop();
      await hub.kill('SIGTERM');
    }
  },
);

test.serial(
  'a missing microphone is reported and recovered without restarting the device',
  async (t) => {
    const dir = tempDir();
    const { hub, stop } = await startHub();
    const mic = path.join(dir, 'mic.wav');
    const { door, kitchen } = pair(hub.textPort, dir, ['--capture', `file:${mic}`]);
    try {
      await door.waitFor(/connected to the hub/, 20_000);
      await kitchen.waitFor(/connected to the hub/, 20_000);
      door.press();
      await kitchen.waitFor(/door is calling/);
      kitchen.press();
      await door.waitFor(/talking with kitchen/);
      // The capture fails to open and is retried; the call stays up.
      await waitForLog(
        door,
        (l) => l.level === 40 && /capture|audio|device/i.test(JSON.stringify(l)),
      );
      // The microphone appears: a 48 kHz mono WAV of 700 Hz. Once the capture has opened it
      // again, the kitchen's speaker plays 2 s more.
      const reopened = (l: Record<string, unknown>) =>
        l.msg === 'audio device open' && Number(l.failures) > 0;
      fs.writeFileSync(mic, wav(700, 2000));
      await waitForLog(door, reopened, 30_000);
      const kitchenWav = path.join(dir, 'kitchen.wav');
      await played(kitchenWav, size(kitchenWav), 2000);
      door.press();
      await kitchen.waitFor(/call with door ended/);
    } finally {
      await door.stop();
      await kitchen.stop();
      await stop();
    }
    const atKitchen = tones(path.join(dir, 'kitchen.wav'));
    t.true(atKitchen.filter((f) => near(f, 700)).length >= 2, `kitchen heard ${atKitchen}`);
  },
);

async function waitForLog(
  d: DeviceProcess,
  pred: (l: Record<string, unknown>) => boolean,
  ms = 8000,
) {
  const deadline = Date.now() + ms;
  while (!d.logs.some(pred)) {
    if (Date.now() > deadline) throw new Error(`${d.name}: no such log line within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A 48 kHz mono 16-bit WAV of a sine. */
function wav(hz: number, ms: number): Buffer {
  const n = (48000 * ms) / 1000;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 48000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(48000, 24);
  h.writeUInt32LE(96000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

test.serial(
  'DTMF door release: the flat presses its door button, the door station opens (RFC 4733)',
  async (t) => {
    const dir = tempDir();
    const { hub, stop } = await startHub();
    const fifo = path.join(dir, 'door-button');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [fifo]);
    fs.writeFileSync(
      path.join(dir, 'door.yaml'),
      'door:\n  relay: fake\n  pulse_ms: 500\n  key: "#"\n',
    );
    fs.writeFileSync(
      path.join(dir, 'kitchen.yaml'),
      `door:\n  button: evdev:${fifo}:256\n  key: "#"\n`,
    );
    const { door, kitchen } = pair(
      hub.textPort,
      dir,
      ['--config', path.join(dir, 'door.yaml')],
      ['--config', path.join(dir, 'kitchen.yaml')],
    );
    const button = fs.createWriteStream(fifo);
    try {
      await door.waitFor(/connected to the hub/, 20_000);
      await kitchen.waitFor(/connected to the hub/, 20_000);
      door.press();
      await kitchen.waitFor(/door is calling/);
      kitchen.press();
      await kitchen.waitFor(/talking with door/);
      // BTN_0 down then up, as the kernel's gpio-key driver reports it.
      button.write(
        Buffer.concat([
          encodeInputEvent({ type: EV_KEY, code: 256, value: 1 }),
          encodeInputEvent({ type: EV_KEY, code: 256, value: 0 }),
        ]),
      );
      await kitchen.waitFor(/sent the door key # to door/);
      await door.waitFor(/door opened \(key # from kitchen\)/);
      t.is(door.events.filter((e) => /door opened/.test(e)).length, 1, 'one press opens once');
    } finally {
      button.destroy();
      await door.stop();
      await kitchen.stop();
      await stop();
    }
  },
);

test.serial(
  'door.from: the door key of a caller not on the list does not open the door [S-10]',
  async (t) => {
    const dir = tempDir();
    const { hub, stop } = await startHub();
    fs.writeFileSync(path.join(dir, 'door.yaml'), 'door:\n  relay: fake\n  from: [flat-2]\n');
    const fifo = path.join(dir, 'door-button');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [fifo]);
    // The kitchen calls the door this time: the door station did not place the call.
    fs.writeFileSync(
      path.join(dir, 'kitchen.yaml'),
      `target: door\ndoor:\n  button: evdev:${fifo}:256\n`,
    );
    const { door, kitchen } = pair(
      hub.textPort,
      dir,
      ['--config', path.join(dir, 'door.yaml')],
      ['--config', path.join(dir, 'kitchen.yaml')],
    );
    const button = fs.createWriteStream(fifo);
    try {
      await door.waitFor(/connected to the hub/, 20_000);
      await kitchen.waitFor(/connected to the hub/, 20_000);
      kitchen.press();
      await door.waitFor(/kitchen is calling/);
      door.press();
      await kitchen.waitFor(/talking with door/);
      button.write(
        Buffer.concat([
          encodeInputEvent({ type: EV_KEY, code: 256, value: 1 }),
          encodeInputEvent({ type: EV_KEY, code: 256, value: 0 }),
        ]),
      );
      await door.waitFor(/refused to open the door \(key # from kitchen\): not_allowed/);
      t.false(door.events.some((e) => /door opened/.test(e)));
    } finally {
      button.destroy();
      await door.stop();
      await kitchen.stop();
      await stop();
    }
  },
);
