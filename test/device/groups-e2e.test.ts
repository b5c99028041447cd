/**
 * [G-1] Ring groups with real device processes and a real hub on loopback: a call to a
 * group rings every reachable member, the first to answer takes it and the others stop
 * ringing (`answered_elsewhere`), a member in do-not-disturb is not rung, and nobody
 * answering ends the call `timeout` for everyone.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { near, played, size, tones, windowsAt } from '../helpers/speaker-wav.ts';

// Each test runs four device processes beside the hub: one test at a time.

function device(name: string, port: number, dir: string, hz: number, extra: string[] = []) {
  return new DeviceProcess(name, [
    ...['--hub', `127.0.0.1:${port}`, '--media-port', '0', '--button', 'stdin'],
    ...['--capture', `tone:${hz}`, '--playback', `file:${path.join(dir, `${name}.wav`)}`],
    ...extra,
  ]);
}

/** The door calls the group `family`: kitchen and office, and bedroom in do-not-disturb. */
async function building(argv: string[] = []) {
  const dir = tempDir();
  const hub = await startHub(argv);
  const port = hub.hub.textPort;
  const dnd = path.join(dir, 'bedroom.yaml');
  fs.writeFileSync(dnd, 'do_not_disturb: true\n');
  const door = device('door', port, dir, 440, ['--target', 'family']);
  const kitchen = device('kitchen', port, dir, 1000);
  const office = device('office', port, dir, 1200);
  const bedroom = device('bedroom', port, dir, 1500, ['--config', dnd]);
  const all = [door, kitchen, office, bedroom];
  const wav = (d: DeviceProcess) => path.join(dir, `${d.name}.wav`);
  const stop = async () => {
    const codes = await Promise.all(all.map((d) => d.stop()));
    await hub.stop();
    return codes;
  };
  try {
    for (const d of all) await d.waitFor(/connected to the hub/, 30_000);
    hub.hub.accounts.groups.add('family', ['kitchen', 'office', 'bedroom']);
  } catch (err) {
    await stop();
    throw err;
  }
  return { door, kitchen, office, bedroom, wav, stop };
}

/** When a device logged a life-cycle line matching `re` (its pino time). */
function timeOf(d: DeviceProcess, re: RegExp): number {
  const rec = d.logs.find((l) => typeof l.event === 'string' && re.test(l.event));
  if (!rec) throw new Error(`${d.name}: no ${re}`);
  return rec.time as number;
}

test.serial(
  '[G-1] all reachable members ring; the first to answer talks, the second stops ringing at once; DND is not rung',
  async (t) => {
    const b = await building();
    const { door, kitchen, office, bedroom, wav } = b;
    let heard: { winner: DeviceProcess; loser: DeviceProcess; hz: number; other: number } | null =
      null;
    try {
      door.press();
      await door.waitFor(/calling family/);
      await kitchen.waitFor(/door is calling/);
      await office.waitFor(/door is calling/);
      // Both ring a moment: 1 s of chime each.
      await Promise.all([played(wav(kitchen), 44, 1000), played(wav(office), 44, 1000)]);
      // Both answer at once: whichever ACCEPT the hub takes first wins, the other member
      // gets `answered_elsewhere` (before or after its own ACCEPT went out).
      kitchen.press();
      office.press();
      await door.waitFor(/talking with (kitchen|office) \(answered for family\)/);
      const winner = door.events.some((e) => /talking with kitchen/.test(e)) ? kitchen : office;
      const loser = winner === kitchen ? office : kitchen;
      await loser.waitFor(/call from door answered elsewhere/);
      const loserStopped = size(wav(loser));
      await winner.waitFor(/talking with door/);
      await Promise.all([
        played(wav(door), size(wav(door)), 1500),
        played(wav(winner), size(wav(winner)), 1500),
      ]);
      // The loser's speaker played nothing more after its ring stopped.
      t.true(
        size(wav(loser)) - loserStopped <= 2 * 1920,
        `${loser.name} played ${size(wav(loser)) - loserStopped} bytes after answered_elsewhere`,
      );
      t.true(
        Math.abs(timeOf(loser, /answered elsewhere/) - timeOf(winner, /talking with door/)) < 1000,
        `${loser.name} stopped ringing when ${winner.name} answered`,
      );
      t.false(
        loser.events.some((e) => /talking with/.test(e)),
        loser.events.join(' | '),
      );
      door.press();
      await door.waitFor(new RegExp(`hung up on ${winner.name}`));
      await winner.waitFor(/call with door ended/);
      heard = {
        winner,
        loser,
        hz: winner === kitchen ? 1000 : 1200,
        other: winner === kitchen ? 1200 : 1000,
      };
    } finally {
      t.deepEqual(await b.stop(), [0, 0, 0, 0]);
    }
    if (!heard) return;
    const { winner, loser, hz, other } = heard;
    const atDoor = tones(wav(door));
    t.true(windowsAt(wav(door), hz) >= 4, `door heard ${atDoor}`);
    t.false(
      atDoor.some((f) => near(f, other)),
      `door heard ${loser.name}: ${atDoor}`,
    );
    t.true(windowsAt(wav(winner), 440) >= 4, `${winner.name} heard ${tones(wav(winner))}`);
    t.true(windowsAt(wav(loser), 660) >= 1, `${loser.name} rang: ${tones(wav(loser))}`);
    t.is(windowsAt(wav(loser), 440), 0, `${loser.name} never heard the door`);
    // [G-1] do not disturb: never rung (a ring would have been declined and said).
    t.false(
      bedroom.events.some((e) => /door is calling|declined door/.test(e)),
      bedroom.events.join(' | '),
    );
    t.deepEqual(tones(wav(bedroom)), [], 'the bedroom never rang');
  },
);

test.serial(
  '[G-1] nobody answers: the call ends `timeout` for the caller and every member',
  async (t) => {
    const b = await building(['--ring-timeout', '2']);
    const { door, kitchen, office, bedroom } = b;
    try {
      door.press();
      await kitchen.waitFor(/door is calling/);
      await office.waitFor(/door is calling/);
      await door.waitFor(/call with family timeout/, 15_000);
      await kitchen.waitFor(/call with door timeout/, 15_000);
      await office.waitFor(/call with door timeout/, 15_000);
      t.false(
        bedroom.events.some((e) => /door/.test(e)),
        bedroom.events.join(' | '),
      );
      // And the group can be called again at once.
      const mark = kitchen.events.length;
      door.press();
      await kitchen.waitFor(/door is calling/, 8000, mark);
    } finally {
      t.deepEqual(await b.stop(), [0, 0, 0, 0]);
    }
  },
);
