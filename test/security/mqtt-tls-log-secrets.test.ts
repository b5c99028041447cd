/**
 * [S-9, extension] The MQTT link in TLS leaks no secret into logs: a hub in this process
 * with its embedded broker (plaintext and TLS ports), logging at trace, and a device's
 * MQTT link logging at trace, go through a pinned TLS login, a stats publish, a command, a
 * wrong secret on the TLS port, and a refused broker certificate (a wrong pin); then both
 * logs are searched for the device's secret, the wrong one, the broker's logins and the
 * hub's TLS private key.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import mqtt from 'mqtt';
import { HubTrust } from '../../device/hub/trust.ts';
import { DeviceMqtt } from '../../device/mqtt.ts';
import { Hub } from '../../hub/main.ts';
import { readMqttLogins } from '../../hub/mqtt/logins.ts';
import type { DeviceCommand } from '../../protocol/mqtt/topics.ts';
import { seedIdentity, tempDir, testConfig } from '../helpers/hub.ts';
import { capturingLog } from '../helpers/log.ts';
import { MqttWatch } from '../helpers/mosquitto.ts';
import { makeCert } from '../helpers/tls-hub.ts';

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('trace-level hub and device logs of an MQTT session in TLS hold no secret or key', async (t) => {
  t.timeout(60_000);
  const hubLog = capturingLog('trace');
  const devLog = capturingLog('trace');
  const config = testConfig(['--mqtt', 'embedded', '--log-level', 'trace']);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = 0;
  config.mqtt.embedded_tls_port = 0;
  await seedIdentity(config.data_dir);
  const hub = await Hub.start(config, { log: hubLog.log });
  const tlsPort = hub.mqttTlsPort!;
  const secret = 'door-mqtt-secret-6e1d0c9a';
  const wrong = 'guess-mqtt-secret-41a7f2b8';
  await hub.accounts.createUser({ name: 'door', secret });
  const logins = readMqttLogins(config.data_dir)!;
  const admin = await MqttWatch.connect(
    `mqtt://127.0.0.1:${hub.mqttPort}`,
    ['babel/#'],
    logins.admin,
  );
  const stateDir = tempDir();
  const device = (pin: string) => {
    const trust = new HubTrust({ pin, stateDir, log: devLog.log });
    const commands: DeviceCommand[] = [];
    const m = new DeviceMqtt({
      url: `mqtts://127.0.0.1:${tlsPort}`,
      tls: {
        host: '127.0.0.1',
        port: tlsPort,
        check: (der) => trust.check(der, `127.0.0.1:${tlsPort}`, { firstUse: 'refuse' }),
      },
      baseTopic: 'babel',
      name: 'door',
      door: true,
      username: 'door',
      password: secret,
      log: devLog.log,
      onCommand: (c) => commands.push(c),
      refusedRetryMs: 200,
      refusedRetryMaxMs: 400,
    });
    return { m, commands };
  };
  const good = device(hub.fingerprint);
  const bad = device(makeCert().fingerprint);
  try {
    good.m.start();
    await admin.waitTopic('babel/door/device', undefined, 15_000);
    await admin.client.publishAsync('babel/door/set', '{"action":"hangup"}', { qos: 1 });
    await until('the command arrived', () => good.commands.length > 0);
    t.deepEqual(good.commands, [{ action: 'hangup' }]);
    // A wrong secret on the TLS port, and a device with another pin.
    const err = await t.throwsAsync(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
        username: 'door',
        password: wrong,
        rejectUnauthorized: false,
        reconnectPeriod: 0,
      }),
    );
    t.is((err as Error & { code?: number }).code, 4);
    bad.m.start();
    await until('the wrong pin refused twice', () => bad.m.refusedLogins >= 2);
  } finally {
    await bad.m.stop();
    await good.m.stop();
    await admin.close();
    await hub.stop();
  }
  const key = fs.readFileSync(path.join(config.data_dir, 'tls', 'hub.key'), 'utf8');
  const keyBody = key.split('\n').find((l) => l.length > 40) ?? key;
  const logs = hubLog.text() + devLog.text();
  t.true(logs.includes('mqtt login refused'), 'the session was logged');
  t.true(devLog.text().includes('refused the hub'), 'the pin refusal was logged');
  for (const [what, s] of [
    ['device secret', secret],
    ['wrong secret', wrong],
    ['admin password', logins.admin.password],
    ['hub mqtt password', logins.hub.password],
    ['TLS key', keyBody],
  ] as const) {
    t.false(logs.includes(s), what);
  }
});
