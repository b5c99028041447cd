/**
 * [S-10, S-9] The door station as an attacker and an operator see it, over a real MQTT
 * broker (mosquitto) and the shipped fake GPIO backend: every attempt is published, not
 * retained, on `babel/door/door`; a relay whose pin fails is reported `failed`, never
 * `opened`, and the station announces `"door": false` (so the hub withdraws Home
 * Assistant's "Open door") until a pulse works again. And the device logs in to the
 * broker as its name with its generated secret: a broker that refuses anonymous clients
 * lets it in, and no secret appears in its log.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DeviceAgent } from '../../device/agent.ts';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { errno, FakeGpioBank } from '../../device/io/fake-gpio.ts';
import { loadOrCreateSecret } from '../../device/secret.ts';
import { captureLog } from '../device/capture-log.ts';
import { freePort, Mosquitto, MqttWatch } from '../helpers/mosquitto.ts';

const WAIT = 15_000;

function tmp(t: ExecutionContext, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Raspberry Pi 4's GPIO sysfs tree (main chip base 512), for the fake backend. */
function pi4Sysfs(t: ExecutionContext): string {
  const root = tmp(t, 'babel-gpio-');
  const chip = path.join(root, 'gpiochip512');
  fs.mkdirSync(chip);
  fs.writeFileSync(path.join(chip, 'base'), '512\n');
  fs.writeFileSync(path.join(chip, 'label'), 'pinctrl-bcm2711\n');
  fs.writeFileSync(path.join(chip, 'ngpio'), '58\n');
  return root;
}

/** A door station on a hub address nobody answers (MQTT needs no hub). */
async function doorStation(
  t: ExecutionContext,
  mqttUrl: string,
  extra: string[] = [],
  file = 'door:\n  relay: gpio:22\n  pulse_ms: 200\n',
) {
  const hubPort = await freePort();
  const loaded = loadDeviceConfig(
    [
      '--name',
      'door',
      '--hub',
      `127.0.0.1:${hubPort}`,
      '--media-port',
      '0',
      '--capture',
      'silence',
      '--playback',
      'null',
      '--mqtt',
      mqttUrl,
      '--state-dir',
      tmp(t, 'babel-state-'),
      '--log-level',
      'debug',
      ...extra,
    ],
    {},
    () => file,
  );
  if (loaded.kind !== 'config') throw new Error(loaded.kind);
  return loaded.config;
}

test.serial(
  'relay fault: failed, never opened; the door is withdrawn until a pulse works',
  async (t) => {
    const mosquitto = await Mosquitto.start();
    const w = await MqttWatch.connect(mosquitto.url, ['babel/#']);
    const bank = new FakeGpioBank();
    const { log, records } = captureLog();
    // door.from: any (the old DTMF rule) is lenient: warned about once at start [S-11].
    const config = await doorStation(
      t,
      mosquitto.url,
      ['--config', 'door.yaml'],
      'door:\n  relay: gpio:22\n  pulse_ms: 200\n  from: any\n',
    );
    const agent = await DeviceAgent.start(config, {
      log,
      gpioFactory: bank.factory,
      sysfsRoot: pi4Sysfs(t),
    });
    try {
      t.is(records.filter((r) => r.level === 40 && /door\.from is any/.test(r.msg)).length, 1);
      const pin = () => bank.get(512 + 22)!;
      const announced = await w.waitTopic('babel/door/device', undefined, WAIT);
      t.like(JSON.parse(announced.payload), { door: true });

      // A working relay: opened, published (not retained), the pin pulsed.
      let from = w.seen.length;
      await w.client.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
      const opened = await w.waitTopic('babel/door/door', undefined, WAIT, from);
      t.deepEqual(JSON.parse(opened.payload), {
        result: 'opened',
        by: 'mqtt',
        from: null,
        reason: null,
      });
      t.deepEqual(pin().writes.slice(0, 2), [0, 1]);

      // The relay board loses power: its pin's writes fail (EIO), and so does reopening it.
      while (pin().physical !== 0) await new Promise((r) => setTimeout(r, 20)); // pulse over
      pin().failWrites = errno('EIO', 'write');
      bank.failNext = errno('EIO', 'export');
      from = w.seen.length;
      await w.client.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
      const failed = await w.waitTopic('babel/door/door', undefined, WAIT, from);
      t.deepEqual(JSON.parse(failed.payload), {
        result: 'failed',
        by: 'mqtt',
        from: null,
        reason: 'relay_fault',
      });
      const withdrawn = await w.waitFor(
        (m) => m.topic === 'babel/door/device' && JSON.parse(m.payload).door === false,
        'babel/door/device with door false',
        WAIT,
        from,
      );
      t.truthy(withdrawn);
      // Retained: a hub (or Home Assistant) that comes later still sees no door.
      const late = await MqttWatch.connect(mosquitto.url, [
        'babel/door/device',
        'babel/door/door',
        'babel/test/marker',
      ]);
      try {
        const kept = await late.waitTopic('babel/door/device', undefined, WAIT);
        t.true(kept.retain);
        t.like(JSON.parse(kept.payload), { door: false });
        // Door events are not retained: none is delivered on subscribing (the marker,
        // published after the subscription, comes after any retained message).
        await late.client.publishAsync('babel/test/marker', 'x', { qos: 1 });
        await late.waitTopic('babel/test/marker', undefined, WAIT);
        t.deepEqual(late.on('babel/door/door'), []);
      } finally {
        await late.close();
      }

      // Power is back: the next attempt reopens the pin, opens the door, and the door is back.
      from = w.seen.length;
      await w.client.publishAsync('babel/door/set', '{"action":"door"}', { qos: 1 });
      const again = await w.waitTopic('babel/door/door', undefined, WAIT, from);
      t.is(JSON.parse(again.payload).result, 'opened');
      const back = await w.waitFor(
        (m) => m.topic === 'babel/door/device' && JSON.parse(m.payload).door === true,
        'babel/door/device with door true',
        WAIT,
        from,
      );
      t.truthy(back);
      t.is(pin().physical, 1, 'the new pin is pulsing');

      const doorLines = records.filter((r) => typeof r.door === 'object' && r.level === 30);
      t.deepEqual(
        doorLines.map((r) => (r.door as { result: string }).result),
        ['opened', 'failed', 'opened'],
        'every attempt logged at info',
      );
    } finally {
      await agent.stop();
      await w.close();
      await mosquitto.dispose();
    }
  },
);

/** A mosquitto that refuses anonymous clients and knows `users` (name -> password). */
async function lockedBroker(t: ExecutionContext, users: Record<string, string>) {
  const dir = tmp(t, 'babel-mosq-auth-');
  const passwd = path.join(dir, 'passwd');
  fs.writeFileSync(passwd, '');
  for (const [u, p] of Object.entries(users)) {
    execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwd, u, p]);
  }
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      'persistence false',
      `user ${os.userInfo().username}`,
      'log_dest stderr',
    ].join('\n') + '\n',
  );
  const proc = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  t.teardown(() => {
    proc.kill('SIGTERM');
  });
  // A bound against hanging, not a speed claim.
  const deadline = Date.now() + WAIT;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('mosquitto did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = `mqtt://127.0.0.1:${port}`;
  return url;
}

test.serial(
  '[S-9] the device logs in to a closed broker with its name and generated secret',
  async (t) => {
    const stateDir = tmp(t, 'babel-state-');
    // The secret the device will make on its first start is the one kept here; the broker
    // is told it as the hub's embedded broker would be (the device's Babel credentials).
    const { secret } = loadOrCreateSecret(stateDir);
    const url = await lockedBroker(t, { door: secret, admin: 'admin-pw' });
    const w = await MqttWatch.connect(url.replace('mqtt://', 'mqtt://admin:admin-pw@'), [
      'babel/#',
    ]);
    const { log, lines } = captureLog('trace');
    const config = await doorStation(t, url, ['--state-dir', stateDir]);
    const agent = await DeviceAgent.start(config, { log });
    try {
      const m = await w.waitTopic('babel/door/device', undefined, WAIT);
      t.like(JSON.parse(m.payload), { model: 'babel-device' });
      t.true(
        lines.some((l) => l.includes('"msg":"MQTT connected"') && l.includes('"username":"door"')),
      );
    } finally {
      await agent.stop();
      await w.close();
    }
    t.false(
      lines.some((l) => l.includes(secret)),
      'the secret appears in no log line, even at trace',
    );
  },
);
