/**
 * [G-2] Paging with real device processes and a real hub on loopback: a page button
 * pages the group `floors`; every member's speaker (a `file:` WAV) plays the pager's tone
 * at once, without a press, with its microphone closed; members in a call are skipped; a
 * second press of the page button ends the page for all.
 */
import path from 'node:path';
import test from 'ava';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { played, size, tones, windowsAt } from '../helpers/speaker-wav.ts';

const PAGER_HZ = 700;

function device(name: string, port: number, dir: string, hz: number, extra: string[]) {
  return new DeviceProcess(name, [
    ...['--hub', `127.0.0.1:${port}`, '--media-port', '0'],
    ...['--capture', `tone:${hz}`, '--playback', `file:${path.join(dir, `${name}.wav`)}`],
    ...extra,
  ]);
}

/** Whether a device opened its microphone (the capture's own log line). */
const micOpened = (d: DeviceProcess, from = 0) =>
  d.logs.slice(from).some((l) => l.msg === 'audio device open' && typeof l.capture === 'string');

test.serial(
  '[G-2] paging five members: each plays the pager at once, members in a call are skipped, hang-up ends it for all',
  async (t) => {
    const dir = tempDir();
    const hub = await startHub();
    const port = hub.hub.textPort;
    const pager = device('reception', port, dir, PAGER_HZ, [
      ...['--page-button', 'stdin', '--page-target', 'floors'],
    ]);
    const members = [1, 2, 3, 4, 5].map((n) =>
      device(`floor${n}`, port, dir, 1000 + 100 * n, [
        '--button',
        'stdin',
        ...(n === 4 ? ['--target', 'floor5'] : []),
      ]),
    );
    type Five = [DeviceProcess, DeviceProcess, DeviceProcess, DeviceProcess, DeviceProcess];
    const [f1, f2, f3, f4, f5] = members as Five;
    const all = [pager, ...members];
    const wav = (d: DeviceProcess) => path.join(dir, `${d.name}.wav`);
    /** Where each member's speaker file stood when the second page began. */
    let second: number[] = [];
    try {
      for (const d of all) await d.waitFor(/connected to the hub/, 30_000);
      hub.hub.accounts.groups.add(
        'floors',
        members.map((m) => m.name),
      );

      // Floors 4 and 5 are in a call with each other.
      f4.press();
      await f5.waitFor(/floor4 is calling/);
      f5.press();
      await f4.waitFor(/talking with floor5/);
      await f5.waitFor(/talking with floor4/);

      // First page: floors 1-3 play it, 4 and 5 are skipped.
      pager.press();
      await pager.waitFor(/^paging floors$/);
      for (const m of [f1, f2, f3]) await m.waitFor(/reception is paging/);
      const from = [f1, f2, f3].map((m) => size(wav(m)));
      await Promise.all([f1, f2, f3].map((m, i) => played(wav(m), from[i]!, 1500)));
      pager.press();
      await pager.waitFor(/page to floors ended|hung up on floors/);
      for (const m of [f1, f2, f3]) await m.waitFor(/page from reception ended/);
      for (const m of [f4, f5])
        t.false(
          m.events.some((e) => /reception/.test(e)),
          m.name,
        );
      const pagedMarks = members.map((m) => m.logs.length);
      for (const m of [f1, f2, f3])
        t.false(micOpened(m), `${m.name} opened its microphone for a page`);

      // The call of 4 and 5 went on; it ends, and the second page reaches all five.
      f4.press();
      await f5.waitFor(/call with floor4 ended/);
      const before = members.map((m) => size(wav(m)));
      const marks = members.map((m) => m.events.length);
      pager.press();
      for (const [i, m] of members.entries())
        await m.waitFor(/reception is paging/, 8000, marks[i]);
      await Promise.all(members.map((m, i) => played(wav(m), before[i]!, 1500)));
      // Floor 1 leaves the page with a press; it goes on for the others.
      f1.press();
      await f1.waitFor(/left the page from reception/, 8000, marks[0]);
      const rest = members.slice(1);
      const mid = rest.map((m) => size(wav(m)));
      await Promise.all(rest.map((m, i) => played(wav(m), mid[i]!, 500)));
      t.false(
        pager.events.some((e) => /page to floors ended/.test(e)),
        'the page went on',
      );
      pager.press();
      for (const [i, m] of rest.entries())
        await m.waitFor(/page from reception ended/, 8000, marks[i + 1]);
      await pager.waitFor(/hung up on floors/);
      for (const [i, m] of members.entries())
        t.false(micOpened(m, pagedMarks[i]), `${m.name} opened its microphone for a page`);
      second = before;
    } finally {
      const codes = await Promise.all(all.map((d) => d.stop()));
      await hub.stop();
      t.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
    }
    // (A speaker's WAV is read once its device has stopped and completed it.)
    t.is(second.length, 5);
    for (const [i, m] of members.entries()) {
      t.true(
        windowsAt(wav(m), PAGER_HZ, second[i]) >= 4,
        `${m.name} heard ${tones(wav(m), second[i])} in the second page`,
      );
    }
    // Floors 1-3 heard the first page too; 4 and 5 heard each other in it, not the pager.
    for (const m of [f4, f5]) {
      const inCall = tones(wav(m), 44, second[members.indexOf(m)]);
      t.false(
        inCall.some((f) => Math.abs(f - PAGER_HZ) <= 3),
        `${m.name} heard the first page in its call`,
      );
    }
    for (const m of [f1, f2, f3]) t.true(windowsAt(wav(m), PAGER_HZ) >= 8, m.name);
    t.true(windowsAt(wav(f4), 1500) >= 4, `floor4 heard ${tones(wav(f4))}`);
    t.true(windowsAt(wav(f5), 1400) >= 4, `floor5 heard ${tones(wav(f5))}`);
    // The pager plays nothing: no ring-back, no page, nothing of the members.
    t.deepEqual(tones(wav(pager)), [], 'the pager played nothing');
  },
);
