/**
 * [G-2][P-3] A lobby panel end to end: a real hub on loopback, two flats as real device
 * processes in the group `all-flats`, and the lobby's agent reading its panel through
 * serialport's mock binding. Its "all flats" key pages the group (both flats play the
 * lobby's tone at once, without a press) and ends the page when pressed again; its
 * flat keys still call their flat, and the page key does nothing in that call.
 */
import path from 'node:path';
import test from 'ava';
import { SerialPortMock } from 'serialport';
import { DeviceAgent } from '../../device/agent.ts';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import type { SerialFactory } from '../../device/io/button-serial.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { startHub, tempDir } from '../helpers/hub.ts';
import { testLog } from '../helpers/log.ts';
import { played, size, tones, windowsAt } from '../helpers/speaker-wav.ts';

const LOBBY_HZ = 700;
const PANEL = '/dev/ttyLOBBY-e2e';

/** The lobby's agent: its panel on a mock port, its life-cycle lines collected. */
async function lobby(hubPort: number, dir: string) {
  SerialPortMock.binding.createPort(PANEL, { record: true });
  const ports: SerialPortMock[] = [];
  const serialFactory: SerialFactory = (p, baudRate) => {
    const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
    ports.push(port);
    return port;
  };
  const yaml = [
    'name: lobby',
    `hub: 127.0.0.1:${hubPort}`,
    'media_port: 0',
    `capture: tone:${LOBBY_HZ}`,
    'playback: "null"',
    'mqtt:\n  url: "off"',
    `state_dir: ${path.join(dir, 'lobby')}`,
    `button: [serial:${PANEL}]`,
    'panel:',
    '  1: flat-1',
    '  2: flat-2',
    '  9: { page: all-flats }',
  ].join('\n');
  const loaded = loadDeviceConfig(['--config', 'device.yaml'], {}, () => yaml);
  if (loaded.kind !== 'config') throw new Error(loaded.kind);
  const events: string[] = [];
  const agent = await DeviceAgent.start(loaded.config, {
    log: testLog,
    serialFactory,
    narrate: (line) => events.push(line.replace(/^lobby: /, '')),
  });
  /** Waits for a life-cycle line matching `re` after index `from`; returns its index. */
  const waitFor = async (re: RegExp, from = 0, ms = 8000): Promise<number> => {
    const end = Date.now() + ms;
    for (;;) {
      const i = events.findIndex((e, k) => k >= from && re.test(e));
      if (i >= 0) return i;
      if (Date.now() > end)
        throw new Error(`lobby: no ${re} within ${ms} ms: ${events.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** A key pressed on the panel (timed by the panel: `S <n>`). */
  const key = (n: number) => ports.at(-1)!.port!.emitData(`S ${n}\n`);
  return { agent, events, waitFor, key, ports };
}

test.serial(
  '[G-2] a lobby panel key pages all flats and ends the page; the flat keys still call',
  async (t) => {
    const dir = tempDir();
    const hub = await startHub();
    const port = hub.hub.textPort;
    const flats = [1, 2].map(
      (n) =>
        new DeviceProcess(`flat-${n}`, [
          ...['--hub', `127.0.0.1:${port}`, '--media-port', '0', '--button', 'stdin'],
          ...['--capture', `tone:${1000 + 100 * n}`],
          ...['--playback', `file:${path.join(dir, `flat-${n}.wav`)}`],
        ]),
    );
    const [f1, f2] = flats as [DeviceProcess, DeviceProcess];
    const wav = (d: DeviceProcess) => path.join(dir, `${d.name}.wav`);
    let lob: Awaited<ReturnType<typeof lobby>> | null = null;
    let pageFrom: number[] = [];
    try {
      lob = await lobby(port, dir);
      const l = lob;
      await l.waitFor(/connected to the hub/, 0, 30_000);
      for (const f of flats) await f.waitFor(/connected to the hub/, 30_000);
      hub.hub.accounts.groups.add(
        'all-flats',
        flats.map((f) => f.name),
      );

      // The "all flats" key: a page, played by both flats at once.
      pageFrom = flats.map((f) => size(wav(f)));
      l.key(9);
      await l.waitFor(/^paging all-flats$/);
      t.is(l.agent.machine.state, 'paging');
      for (const f of flats) await f.waitFor(/lobby is paging/);
      await Promise.all(flats.map((f, i) => played(wav(f), pageFrom[i]!, 1500)));
      // Pressed again, it ends the page for all.
      l.key(9);
      for (const f of flats) await f.waitFor(/page from lobby ended/);
      await l.waitFor(/hung up on all-flats|page to all-flats ended/);
      t.is(l.agent.machine.state, 'idle');

      // A flat key calls its flat; in that call the page key pages nobody.
      const marks = flats.map((f) => f.events.length);
      l.key(1);
      await f1.waitFor(/lobby is calling/, 8000, marks[0]);
      f1.press();
      await l.waitFor(/talking with flat-1/);
      const before = l.events.length;
      l.key(9);
      await l.waitFor(/busy/, before);
      t.is(l.agent.machine.state, 'in_call');
      l.key(2); // any key hangs up [P-3]
      await f1.waitFor(/call with lobby ended/, 8000, marks[0]);
      t.false(
        f2.events.slice(marks[1]).some((e) => /lobby/.test(e)),
        'flat-2 heard nothing of the call nor of a page',
      );
      t.deepEqual(l.ports.at(-1)!.port!.recording, Buffer.alloc(0), '[P-5] nothing written');
    } finally {
      await lob?.agent.stop();
      const codes = await Promise.all(flats.map((f) => f.stop()));
      await hub.stop();
      t.deepEqual(codes, [0, 0]);
    }
    // (A speaker's WAV is read once its device has stopped and completed it.)
    for (const [i, f] of flats.entries()) {
      t.true(
        windowsAt(wav(f), LOBBY_HZ, pageFrom[i]) >= 4,
        `${f.name} heard ${tones(wav(f), pageFrom[i])} in the page`,
      );
    }
  },
);
