/** The embedded aedes broker: port 0, retained messages, a taken port, login, stop. */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import mqtt from 'mqtt';
import { BrokerListenError, EmbeddedBroker } from '../../../hub/mqtt/embedded-broker.ts';
import { testLog } from '../../helpers/log.ts';
import { MqttWatch } from '../../helpers/mosquitto.ts';

const broker = (port = 0, auth?: { username: string; password: string }) =>
  new EmbeddedBroker({ host: '127.0.0.1', port, log: testLog, auth });

test('port 0: binds a free port, exposes it, keeps retained messages for late subscribers', async (t) => {
  const b = broker();
  const port = await b.start();
  try {
    t.true(port > 0);
    t.is(b.port, port);
    t.is(b.url, `mqtt://127.0.0.1:${port}`);
    // A client id longer than MQTT 3.1.1's guaranteed 23 characters is welcome.
    const pub = await mqtt.connectAsync(b.url, { clientId: `a-long-client-id-${'x'.repeat(40)}` });
    await pub.publishAsync('babel/bridge/state', 'online', { retain: true, qos: 1 });
    await pub.endAsync();
    const late = await MqttWatch.connect(b.url, ['babel/#']);
    const m = await late.waitTopic('babel/bridge/state');
    t.deepEqual(m, { topic: 'babel/bridge/state', payload: 'online', retain: true });
    await late.close();
  } finally {
    await b.stop();
  }
});

test('a wildcard bind is reached on loopback', async (t) => {
  const b = new EmbeddedBroker({ host: '0.0.0.0', port: 0, log: testLog });
  await b.start();
  try {
    t.is(b.url, `mqtt://127.0.0.1:${b.port}`);
  } finally {
    await b.stop();
  }
});

test('a taken port rejects with BrokerListenError naming the way out, leaving nothing open', async (t) => {
  const squatter = net.createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  const port = (squatter.address() as net.AddressInfo).port;
  try {
    const err = await t.throwsAsync(broker(port).start(), { instanceOf: BrokerListenError });
    t.is(err?.code, 'EADDRINUSE');
    t.regex(err?.message ?? '', new RegExp(`port ${port} .*in use.*--mqtt`));
  } finally {
    squatter.close();
  }
});

test('with a login configured, anonymous and wrong passwords are refused', async (t) => {
  const b = broker(0, { username: 'babel', password: 's3cret' });
  await b.start();
  try {
    for (const opts of [
      {},
      { username: 'babel', password: 'wrong' },
      { username: 'x', password: 's3cret' },
    ]) {
      const err = await t.throwsAsync(
        mqtt.connectAsync(b.url, { ...opts, reconnectPeriod: 0, connectTimeout: 3000 }),
      );
      t.regex(err?.message ?? '', /Bad username or password|Not authorized/i);
    }
    const ok = await mqtt.connectAsync(b.url, { username: 'babel', password: 's3cret' });
    t.true(ok.connected);
    await ok.endAsync();
  } finally {
    await b.stop();
  }
});

test('stop disconnects clients, frees the port and is idempotent', async (t) => {
  const b = broker();
  const port = await b.start();
  const c = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  await b.stop();
  await closed;
  await b.stop();
  const again = broker(port);
  t.is(await again.start(), port);
  await again.stop();
  await c.endAsync(true);
});
