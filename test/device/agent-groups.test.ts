/**
 * The agent with section G inputs, its hub link pointed where nobody answers: a page
 * plays on the speaker at once with the microphone closed [G-2]; a call that hears
 * nothing for 2 s while sending asks for the relay once, and the hub's new `106` moves
 * its media without ending it [G-3]. The other end is a real media session on loopback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DeviceAgent } from '../../device/agent.ts';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { LOCAL, pace, session, toneFrame, until } from '../helpers/media-session.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { tones, windowsAt } from '../helpers/speaker-wav.ts';
import { captureLog } from './capture-log.ts';

async function agentWith(
  t: import('ava').ExecutionContext,
  wav: string,
  env: NodeJS.ProcessEnv = {},
) {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-g-'));
  t.teardown(() => fs.rmSync(state, { recursive: true, force: true }));
  const loaded = loadDeviceConfig(
    [
      ...['--name', 'kitchen', '--hub', `127.0.0.1:${await freePort()}`, '--media-port', '0'],
      ...['--capture', 'tone:1000', '--playback', `file:${wav}`, '--mqtt', 'off'],
      ...['--state-dir', state],
    ],
    env,
  );
  if (loaded.kind !== 'config') throw new Error(loaded.kind);
  const { log, records } = captureLog();
  const agent = await DeviceAgent.start(loaded.config, { log });
  t.teardown(() => agent.stop());
  agent.input({ kind: 'online' });
  const micOpened = () =>
    records.some((r) => r.msg === 'audio device open' && r.capture === 'tone:1000');
  return { agent, records, micOpened };
}

test.serial(
  '[G-2] a page plays at once, without a press, with the microphone closed; its door key opens nothing',
  async (t) => {
    const wav = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'babel-g-')), 'kitchen.wav');
    // A door station paged: the pager's key must not open its door [S-10].
    const { agent, micOpened, records } = await agentWith(t, wav, {
      BABEL_DEVICE_DOOR__RELAY: 'fake',
    });
    const pager = await session();
    t.teardown(() => pager.s.close());
    agent.input({
      kind: 'hub',
      event: { kind: 'paged', caller: 'door', ip: LOCAL, port: pager.port, srtp: null },
    });
    t.is(agent.machine.state, 'paged');
    pager.s.start({ ip: LOCAL, port: agent.mediaPort }, null, 'send');
    await pace(75, (k) => {
      if (k === 55) pager.s.pressKey('#');
      pager.s.sendFrame(toneFrame(440, k));
    });
    t.is(pager.played.length, 0, 'the pager plays nothing');
    t.like(
      records.find((r) => /^door /.test(r.msg)),
      { msg: 'door refused', door: { result: 'refused', reason: 'no_call' } },
      'the key was heard and refused',
    );
    t.true((agent.mediaStats?.received ?? 0) >= 60, 'the page arrived');
    t.is(agent.mediaStats?.packetsSent, 0, 'a paged member sends nothing');
    t.false(micOpened(), 'the microphone stays closed');
    agent.input({ kind: 'hub', event: { kind: 'ended', peer: 'door', reason: 'ended' } });
    t.is(agent.machine.state, 'idle');
    t.is(agent.mediaStats, null);
    await agent.stop(); // the speaker's file is complete
    t.true(windowsAt(wav, 440) >= 4, `the speaker played ${tones(wav)}`);
  },
);

test.serial(
  '[G-3] silence while sending: RELAY once, then the new 106 moves the media and the call goes on',
  async (t) => {
    const wav = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'babel-g-')), 'kitchen.wav');
    const { agent, records } = await agentWith(t, wav);
    const peer = await session();
    t.teardown(() => peer.s.close());
    agent.input({ kind: 'command', action: 'call', target: 'door' });
    // A direct address where nobody answers: what the agent sends there is lost.
    const deaf = await session();
    t.teardown(() => deaf.s.close());
    agent.input({
      kind: 'hub',
      event: { kind: 'media', peer: 'door', ip: LOCAL, port: deaf.port, srtp: null },
    });
    t.is(agent.machine.state, 'in_call');
    t.true(
      await until(() => agent.machine.relayAsked, 6000),
      'asked for the relay after 2 s of silence',
    );
    const asked = records.filter((r) => /asking the hub to relay/.test(String(r.event)));
    t.is(asked.length, 1);
    // The hub moves the call: a new 106 for the same peer.
    agent.input({
      kind: 'hub',
      event: { kind: 'media', peer: 'door', ip: LOCAL, port: peer.port, srtp: null },
    });
    t.is(agent.machine.state, 'in_call');
    t.is(agent.relayFallbacks, 1);
    peer.s.start({ ip: LOCAL, port: agent.mediaPort });
    await pace(75, (k) => peer.s.sendFrame(toneFrame(440, k)));
    t.true((agent.mediaStats?.received ?? 0) >= 60, 'media flows after the move');
    t.true((peer.s.stats()?.received ?? 0) > 0, 'and the agent is heard');
    t.is(
      records.filter((r) => /asking the hub to relay/.test(String(r.event))).length,
      1,
      'once a call',
    );
  },
);
