/**
 * `babel-hub` as a real process against mosquitto: `kill -9` leaves `babel/bridge/state`
 * to the broker, which publishes the hub's last will (`offline`, retained); SIGTERM
 * publishes `offline` itself and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { tempDir } from '../../helpers/hub.ts';
import { loopbackHubArgs } from '../../helpers/hub-launch.ts';
import { Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function babelHub(mqttUrl: string): ChildProcess {
  const args = [
    '--import',
    'tsx',
    'hub/bin.ts',
    ...loopbackHubArgs(tempDir(), ['--mqtt', mqttUrl, '--log-level', 'warn']),
  ];
  return spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The hub's `online`, then what it becomes after `signal`; the retained value is checked late. */
async function bridgeStateAfter(signal: NodeJS.Signals): Promise<{
  live: string;
  retained: { payload: string; retain: boolean };
  code: number | null;
}> {
  const mosquitto = await Mosquitto.start();
  const hub = babelHub(mosquitto.url);
  const exited = once(hub, 'exit');
  try {
    const w = await MqttWatch.connect(mosquitto.url, ['babel/bridge/state']);
    // Started by tsx on a slow machine: allow it time to come up.
    await w.waitTopic('babel/bridge/state', 'online', 30_000);
    const from = w.seen.length;
    hub.kill(signal);
    const [code] = (await exited) as [number | null];
    const live = (await w.waitTopic('babel/bridge/state', undefined, 10_000, from)).payload;
    await w.close();
    const late = await MqttWatch.connect(mosquitto.url, ['babel/bridge/state']);
    const m = await late.waitTopic('babel/bridge/state');
    await late.close();
    return { live, retained: { payload: m.payload, retain: m.retain }, code };
  } finally {
    if (hub.exitCode === null && hub.signalCode === null) hub.kill('SIGKILL');
    await mosquitto.dispose();
  }
}

test('kill -9: the broker publishes the last will, offline and retained', async (t) => {
  const r = await bridgeStateAfter('SIGKILL');
  t.is(r.live, 'offline');
  t.deepEqual(r.retained, { payload: 'offline', retain: true });
  t.is(r.code, null);
});

test('SIGTERM: the hub publishes offline itself, retained, and exits 0', async (t) => {
  const r = await bridgeStateAfter('SIGTERM');
  t.is(r.live, 'offline');
  t.deepEqual(r.retained, { payload: 'offline', retain: true });
  t.is(r.code, 0);
});
