/**
 * The microphone opens only once a call is answered (issue 12): not while this unit rings,
 * nor while it calls; it closes when the call ends. Driven through the agent's inputs with
 * the shipped `silence` microphone and `null` speaker, on a hub address nobody answers; on
 * both media loops (issue 15: the native one opens the microphone on its own thread, and
 * says so in the same words).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DeviceAgent } from '../../device/agent.ts';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { captureLog } from './capture-log.ts';

const opened = (r: { msg: string; capture?: unknown }) =>
  r.msg === 'audio device open' && r.capture === 'silence';

for (const engine of ['js', 'native'] as const) {
  test(`the microphone is closed while ringing and calling, open in the call, closed after (${engine} loop)`, async (t) => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-mic-'));
    t.teardown(() => fs.rmSync(state, { recursive: true, force: true }));
    const loaded = loadDeviceConfig(
      [
        ...['--name', 'kitchen', '--hub', `127.0.0.1:${await freePort()}`, '--media-port', '0'],
        ...['--capture', 'silence', '--playback', 'null', '--mqtt', 'off', '--state-dir', state],
      ],
      { BABEL_DEVICE_AUDIO__ENGINE: engine },
    );
    if (loaded.kind !== 'config') throw new Error(loaded.kind);
    const { log, records } = captureLog();
    const agent = await DeviceAgent.start(loaded.config, { log });
    const settle = () => new Promise((r) => setTimeout(r, 300));
    try {
      agent.input({ kind: 'online' });
      agent.input({ kind: 'hub', event: { kind: 'ringing', caller: 'door' } });
      t.is(agent.machine.state, 'ringing');
      await settle();
      t.false(records.some(opened), 'not while ringing');

      agent.input({ kind: 'command', action: 'accept' });
      agent.input({
        kind: 'hub',
        event: { kind: 'media', peer: 'door', ip: '127.0.0.1', port: 9, srtp: null },
      });
      t.is(agent.machine.state, 'in_call');
      const deadline = Date.now() + 10_000;
      while (!records.some(opened) && Date.now() < deadline) await settle();
      t.true(records.some(opened), 'open in the call');

      agent.input({ kind: 'hub', event: { kind: 'ended', peer: 'door', reason: 'hangup' } });
      t.is(agent.machine.state, 'idle');
      const before = records.filter(opened).length;
      agent.input({ kind: 'command', action: 'call', target: 'door' });
      t.is(agent.machine.state, 'calling');
      await settle();
      t.is(records.filter(opened).length, before, 'not while calling');
    } finally {
      await agent.stop();
    }
  });
}
