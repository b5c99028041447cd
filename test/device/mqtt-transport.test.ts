/**
 * [S-9, extension] The device's MQTT transport: where `mqtt.url` leads, the lenient
 * warning for a plaintext broker beside a TLS hub link, and the pinned TLS stream: a
 * broker with another certificate gets the handshake and not one application byte (the
 * CONNECT packet, which carries the secret, included), retried with backoff; nothing
 * pinned yet is a wait, never a first use; a broker with the pinned certificate works.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { type DeviceConfig, loadDeviceConfig } from '../../device/config-schema.ts';
import { FINGERPRINT_FILE, HubTrust } from '../../device/hub/trust.ts';
import { lenientSettings } from '../../device/lenient.ts';
import { DeviceMqtt } from '../../device/mqtt.ts';
import {
  brokerFor,
  PIN_REFUSED,
  type PinnedBroker,
  PinnedTlsStream,
  plaintextBrokerWarning,
} from '../../device/mqtt-transport.ts';
import { EmbeddedBroker } from '../../hub/mqtt/embedded-broker.ts';
import { tempDir } from '../helpers/hub.ts';
import { capturingLog, testLog } from '../helpers/log.ts';
import { MqttWatch } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/tls.ts';
import { makeCert, type TestCert } from '../helpers/tls-hub.ts';

const hubCert = makeCert();
const otherCert = makeCert();

function config(argv: string[]): DeviceConfig {
  const loaded = loadDeviceConfig(['--name', 'door', '--state-dir', tempDir(), ...argv], {});
  if (loaded.kind !== 'config') throw new Error('unexpected help/version');
  return loaded.config;
}

for (const [hub, mqtt, url, pinned] of [
  ['10.0.0.5', 'auto', 'mqtts://10.0.0.5:8883', { host: '10.0.0.5', port: 8883 }],
  ['tls://hub.lan:4400', 'auto', 'mqtts://hub.lan:8883', { host: 'hub.lan', port: 8883 }],
  ['[fd00::1]', 'auto', 'mqtts://[fd00::1]:8883', { host: 'fd00::1', port: 8883 }],
  ['127.0.0.1', 'auto', 'mqtt://127.0.0.1:1883', null],
  ['tcp://10.0.0.5', 'auto', 'mqtt://10.0.0.5:1883', null],
  ['127.0.0.1', 'mqtts://10.0.0.9', 'mqtts://10.0.0.9', { host: '10.0.0.9', port: 8883 }],
  ['10.0.0.5', 'mqtts://10.0.0.5:9883', 'mqtts://10.0.0.5:9883', { host: '10.0.0.5', port: 9883 }],
  ['10.0.0.5', 'mqtt://10.0.0.5:1883', 'mqtt://10.0.0.5:1883', null],
] as const) {
  test(`brokerFor: hub ${hub}, mqtt.url ${mqtt} -> ${url}${pinned ? ', pinned' : ''}`, (t) => {
    const b = brokerFor(config(['--hub', hub, '--mqtt', mqtt]), { env: {}, log: testLog });
    t.is(b.url, url);
    if (pinned === null) t.is(b.tls, null);
    else t.like(b.tls, pinned);
  });
}

for (const [hub, mqtt, warned] of [
  ['10.0.0.5', 'mqtt://10.0.0.5:1883', true],
  ['tls://127.0.0.1', 'mqtt://broker.lan', true],
  ['10.0.0.5', 'mqtt://127.0.0.1:1883', false],
  ['10.0.0.5', 'mqtts://10.0.0.5', false],
  ['10.0.0.5', 'auto', false],
  ['127.0.0.1', 'mqtt://10.0.0.5', false],
  ['tcp://10.0.0.5', 'mqtt://10.0.0.5', false],
] as const) {
  test(`[S-11] hub ${hub} with mqtt.url ${mqtt}: ${warned ? 'warned' : 'no warning'}`, (t) => {
    const c = config(['--hub', hub, '--mqtt', mqtt]);
    const text = plaintextBrokerWarning(c);
    t.is(text !== null, warned);
    if (text) {
      t.regex(text, /secret.*in clear/);
      t.true(lenientSettings(c).includes(text));
    }
  });
}

/**
 * A TLS server that records every decrypted byte, and when each connection came. (A client
 * that refuses the certificate closes right after its side of the handshake, often before
 * the server has seen the client's Finished: connections are what is counted.)
 */
async function recordingServer(cert: TestCert) {
  const received: Buffer[] = [];
  const handshakes: number[] = [];
  const closed: Array<Promise<unknown>> = [];
  const server = tls.createServer({ key: cert.key, cert: cert.cert });
  server.on('connection', (raw: net.Socket) => {
    handshakes.push(Date.now());
    closed.push(once(raw, 'close'));
  });
  server.on('tlsClientError', () => {});
  server.on('secureConnection', (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => received.push(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    handshakes,
    /** Every connection so far closed (so all it ever sent has been counted). */
    settled: () => Promise.all(closed),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const pinTo = (port: number, pin: string, log = testLog): PinnedBroker => {
  const trust = new HubTrust({ pin, stateDir: tempDir(), log });
  return {
    host: '127.0.0.1',
    port,
    check: (der) => trust.check(der, `127.0.0.1:${port}`, { firstUse: 'refuse' }),
  };
};

test('PinnedTlsStream: another certificate gets the handshake and zero application bytes', async (t) => {
  const server = await recordingServer(otherCert);
  try {
    const s = new PinnedTlsStream(pinTo(server.port, hubCert.fingerprint));
    // Written at once, as MQTT.js writes CONNECT: held, then dropped.
    s.write(Buffer.from('\x10CONNECT with the password s3cret'));
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    t.is(err.code, PIN_REFUSED);
    await server.settled();
    t.is(server.handshakes.length, 1, 'one connection, its handshake done on our side');
    t.is(Buffer.concat(server.received).length, 0, 'not one byte after it');
  } finally {
    await server.close();
  }
});

test('PinnedTlsStream: the pinned certificate gets what was written before the handshake, both ways', async (t) => {
  const server = tls.createServer({ key: hubCert.key, cert: hubCert.cert }, (s) => {
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    const s = new PinnedTlsStream(pinTo(port, hubCert.fingerprint));
    s.write('hello');
    const [reply] = (await once(s, 'data')) as [Buffer];
    t.is(reply.toString(), 'echo:hello');
    s.destroy();
  } finally {
    server.close();
  }
});

test('DeviceMqtt (real MQTT.js): a mismatching broker never gets the secret; retried with backoff; both fingerprints logged once', async (t) => {
  const server = await recordingServer(otherCert);
  const cap = capturingLog();
  const mqtt = new DeviceMqtt({
    url: `mqtts://127.0.0.1:${server.port}`,
    tls: pinTo(server.port, hubCert.fingerprint, cap.log),
    baseTopic: 'babel',
    name: 'door',
    door: false,
    username: 'door',
    password: 's3cret-0123456789',
    log: cap.log,
    onCommand: () => {},
    refusedRetryMs: 100,
    refusedRetryMaxMs: 800,
  });
  mqtt.start();
  try {
    const deadline = Date.now() + 20_000;
    while (server.handshakes.length < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.true(server.handshakes.length >= 4, `handshakes: ${server.handshakes.length}`);
    t.true(mqtt.refusedLogins >= 3);
    // Each wait at least the doubled one before it: 100, 200, 400 ms.
    const gaps = server.handshakes.slice(1, 4).map((h, i) => h - server.handshakes[i]!);
    for (const [i, g] of gaps.entries()) t.true(g >= 100 * 2 ** i - 20, `gap ${i}: ${g} ms`);
  } finally {
    await mqtt.stop();
  }
  await server.settled();
  t.is(Buffer.concat(server.received).length, 0, 'no CONNECT, no secret');
  const refusals = cap.records.filter(
    (r) => r.level === 50 && String(r.msg).startsWith('refused the hub'),
  );
  t.is(refusals.length, 1, 'said once per streak');
  t.like(refusals[0], { expected: hubCert.fingerprint, presented: otherCert.fingerprint });
  t.false(cap.text().includes('s3cret-0123456789'));
  await server.close();
});

test('TOFU ordering: nothing pinned or recorded, the MQTT link waits and records nothing; once the hub link recorded the pin, it logs in', async (t) => {
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: testLog,
    access: {
      mode: 'login',
      baseTopic: 'babel',
      hub: { username: 'babel-hub', password: 'hub-password-0123456789' },
      admin: { username: 'admin', password: 'admin-password-0123456789' },
      verifyDevice: async (name, secret) => name === 'door' && secret === 's3cret',
      throttle: null,
    },
    tls: { port: 0, identity: { cert: hubCert.cert, key: hubCert.key } },
  });
  await broker.start();
  const tlsPort = broker.tlsPort!;
  const stateDir = tempDir();
  const cap = capturingLog();
  const trust = new HubTrust({ pin: null, stateDir, log: cap.log });
  const mqtt = new DeviceMqtt({
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
    password: 's3cret',
    log: cap.log,
    onCommand: () => {},
    refusedRetryMs: 60_000, // waits for the hub link, not for a timer
  });
  const watch = await MqttWatch.connect(broker.url, ['babel/#'], {
    username: 'admin',
    password: 'admin-password-0123456789',
  });
  mqtt.start();
  try {
    const deadline = Date.now() + 10_000;
    while (mqtt.refusedLogins === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.is(mqtt.refusedLogins, 1);
    t.false(fs.existsSync(path.join(stateDir, FINGERPRINT_FILE)), 'no first use from MQTT');
    t.true(cap.records.some((r) => /^not logging in to the MQTT broker yet/.test(String(r.msg))));
    t.false(watch.seen.some((s) => s.topic === 'babel/door/device'));
    // The hub link pairs (its own HubTrust records on first use), then goes online.
    const hubLink = new HubTrust({ pin: null, stateDir, log: testLog });
    t.true(hubLink.check(der(hubCert), 'hub'));
    mqtt.retryRefusedLogin();
    const announced = await watch.waitTopic('babel/door/device', undefined, 10_000);
    t.like(JSON.parse(announced.payload), { door: true });
    t.is(mqtt.refusedLogins, 0);
  } finally {
    await mqtt.stop();
    await watch.close();
    await broker.stop();
  }
});

/** A PEM certificate's DER. */
function der(cert: TestCert): Buffer {
  return Buffer.from(cert.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

test('a TLS broker that cannot be reached is said once at warn, then at debug', async (t) => {
  const port = await freePort(); // nothing listens there
  const cap = capturingLog();
  const mqtt = new DeviceMqtt({
    url: `mqtts://127.0.0.1:${port}`,
    tls: pinTo(port, hubCert.fingerprint, cap.log),
    baseTopic: 'babel',
    name: 'door',
    door: false,
    log: cap.log,
    onCommand: () => {},
  });
  mqtt.start();
  try {
    const deadline = Date.now() + 15_000;
    const failures = () => cap.records.filter((r) => r.msg === 'MQTT error').length;
    while (failures() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.true(failures() >= 1, 'a second failure, at debug');
    const warned = cap.records.filter((r) =>
      /^cannot reach the MQTT broker in TLS/.test(String(r.msg)),
    );
    t.is(warned.length, 1);
    t.is(warned[0]?.level, 40);
    t.is(mqtt.refusedLogins, 0, 'not a refusal: the ordinary retry');
  } finally {
    await mqtt.stop();
  }
});
