/**
 * [G-3] Relay fallback with real device processes and a real hub on loopback: a direct
 * call whose one direction is a UDP black hole (test/helpers/black-hole.ts) moves to the
 * hub's relay without ending, within 3 s of its start, and both sides hear each other.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeWav } from '../../device/audio/wav.ts';
import { dominantFrequency, rms } from '../../device/media/tone.ts';
import { BlackHole } from '../helpers/black-hole.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { played, size, tones, windowsAt } from '../helpers/speaker-wav.ts';

/** A UDP port free on loopback now. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The dominant frequency of every 200 ms window (quiet ones as 0) from `fromBytes` on. */
function tonesFrom(file: string, fromBytes: number): number[] {
  const pcm = decodeWav(fs.readFileSync(file)).subarray(Math.max(0, fromBytes - 44));
  const out: number[] = [];
  for (let o = 0; o + 19_200 <= pcm.length; o += 19_200) {
    const w = pcm.subarray(o, o + 19_200);
    out.push(rms(w) > 300 ? dominantFrequency(w, 48000) : 0);
  }
  return out;
}

function timeOf(d: DeviceProcess, re: RegExp): number {
  const rec = d.logs.find((l) => typeof l.event === 'string' && re.test(l.event));
  if (!rec) throw new Error(`${d.name}: no ${re}`);
  return rec.time as number;
}

test.serial(
  '[G-3] one direction black-holed: the deaf side asks for the relay, the call goes on, both hear each other',
  async (t) => {
    const dir = tempDir();
    const hub = await startHub(); // relay: auto, so a call between declared ports is direct
    const [doorPort, kitchenPort] = [await freeUdpPort(), await freeUdpPort()];
    const hole = await BlackHole.start({
      hubPort: hub.hub.textPort,
      devicePort: kitchenPort,
      peerPort: doorPort,
    });
    const wav = (name: string) => path.join(dir, `${name}.wav`);
    const door = new DeviceProcess('door', [
      ...['--hub', `127.0.0.1:${hub.hub.textPort}`, '--media-port', String(doorPort)],
      ...['--capture', 'tone:440', '--playback', `file:${wav('door')}`],
      ...['--button', 'stdin', '--target', 'kitchen'],
    ]);
    const kitchen = new DeviceProcess('kitchen', [
      ...['--hub', `127.0.0.1:${hole.hubPort}`, '--media-port', String(kitchenPort)],
      ...['--capture', 'tone:1000', '--playback', `file:${wav('kitchen')}`, '--button', 'stdin'],
    ]);
    let atDoor = 0;
    let atKitchen = 0;
    /** The kitchen's speaker file when its call started. */
    let callStart = 0;
    try {
      await door.waitFor(/connected to the hub/, 30_000);
      await kitchen.waitFor(/connected to the hub/, 30_000);
      door.press();
      await kitchen.waitFor(/door is calling/);
      kitchen.press();
      await door.waitFor(/talking with kitchen/);
      await kitchen.waitFor(/talking with door/);
      callStart = size(wav('kitchen'));
      t.is(hole.rewritten, 1, 'the direct call runs through the black hole');
      await kitchen.waitFor(/no audio from door for 2 s: asking the hub to relay/, 10_000);
      await kitchen.waitFor(/the call with door now goes through the hub/, 10_000);
      await door.waitFor(/the call with kitchen now goes through the hub/, 10_000);
      t.true(hole.dropped > 0, 'the door was not heard directly');
      const moved = timeOf(kitchen, /now goes through the hub/) - timeOf(kitchen, /talking with/);
      t.true(moved >= 1900 && moved < 3000, `moved ${moved} ms into the call`);
      t.log(`the kitchen asked for the relay and moved ${moved} ms into the call`);
      // From the move on, each speaker plays 2 s more: the other's tone.
      atDoor = size(wav('door'));
      atKitchen = size(wav('kitchen'));
      await Promise.all([
        played(wav('door'), atDoor, 2000),
        played(wav('kitchen'), atKitchen, 2000),
      ]);
      door.press();
      await door.waitFor(/hung up on kitchen/);
      await kitchen.waitFor(/call with door ended/);
    } finally {
      t.is(await door.stop(), 0);
      t.is(await kitchen.stop(), 0);
      await hole.close();
      await hub.stop();
    }
    t.true(
      windowsAt(wav('kitchen'), 440, atKitchen) >= 6,
      `kitchen heard ${tones(wav('kitchen'), atKitchen)}`,
    );
    t.true(windowsAt(wav('door'), 1000, atDoor) >= 6, `door heard ${tones(wav('door'), atDoor)}`);
    // Audio flows again within 3 s of the call's start, in played time: the first 200 ms
    // window of the door's tone on the kitchen's speaker after the call began.
    const windows = tonesFrom(wav('kitchen'), callStart);
    const first = windows.findIndex((f) => Math.abs(f - 440) <= 3);
    t.true(first >= 0 && first * 200 < 3000, `first 440 Hz at ${first * 200} ms: ${windows}`);
    t.log(`the kitchen heard the door again ${first * 200} ms (of played audio) into the call`);
    // Only the deaf side asked; each counted one fallback.
    t.false(door.events.some((e) => /asking the hub to relay/.test(e)));
    for (const d of [door, kitchen]) {
      const rec = d.logs.find((l) => l.msg === 'call media moved to the hub relay');
      t.is(rec?.fallbacks, 1, d.name);
    }
  },
);
