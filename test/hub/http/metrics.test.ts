/**
 * `/metrics` of a real in-process hub (embedded MQTT broker), parsed by a Prometheus text
 * parser (`parse-prometheus-text-format`): connections by dialect and transport, logins and
 * failures, calls by outcome, the call-setup and answer histograms, the relay's counters,
 * and what the devices publish on MQTT (statistics, door events [S-10]), which the page's
 * state shows too.
 */
import test from 'ava';
import mqtt from 'mqtt';
import parse, { type PromFamily } from 'parse-prometheus-text-format';
import { readWebLogin } from '../../../hub/http/credentials.ts';
import { startHub } from '../../helpers/hub.ts';
import { freePort } from '../../helpers/mosquitto.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

function family(families: PromFamily[], name: string): PromFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no metric ${name}`);
  return f;
}

/** The value of the sample of `name` whose labels include `labels`; undefined if none. */
function value(families: PromFamily[], name: string, labels: Record<string, string> = {}) {
  const s = family(families, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return s === undefined ? undefined : Number(s.value ?? s.count);
}

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('/metrics counts connections, logins, calls, setup latency, relay, device statistics and door events', async (t) => {
  const port = await freePort();
  const hub = await startHub(['--http-port', String(port), '--mqtt', 'embedded'], {}, undefined, {
    BABEL_HUB_REGISTRATION: 'open',
    BABEL_HUB_LOGIN_THROTTLE: 'off',
    BABEL_HUB_MQTT__EMBEDDED_HOST: '127.0.0.1',
    BABEL_HUB_MQTT__EMBEDDED_PORT: '0',
    BABEL_HUB_MQTT__EMBEDDED_TLS_PORT: '0',
  });
  t.teardown(() => hub.stop());
  const token = readWebLogin(hub.dataDir)!.metrics_token;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    t.is(res.status, 200);
    return parse(await res.text());
  };
  const before = await scrape();
  t.is(value(before, 'babel_stations_online'), 0);
  t.is(family(before, 'babel_call_setup_seconds').type, 'HISTOGRAM');

  const alice = await connectedClient(hub.hub.textPort, 'alice', 5004, 'alice-secret-1');
  const bob = await connectedClient(hub.hub.textPort, 'bob', 6006, 'bob-secret-22');
  const wrong = await TextClient.connect(hub.hub.textPort);
  t.regex((await wrong.request('CONNECT alice 0 not-her-secret')) ?? '', /^4/);
  wrong.close();
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  t.regex((await bob.request('ACCEPT alice')) ?? '', /^106 alice/);
  t.regex((await alice.next()) ?? '', /^106 bob/);

  // A device's statistics and a door event, published as the device (its name and secret [S-9]).
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.hub.mqttPort}`, {
    username: 'alice',
    password: 'alice-secret-1',
    reconnectPeriod: 0,
  });
  t.teardown(() => device.endAsync());
  const stats = {
    packets: 250,
    loss_pct: 1.5,
    late: 2,
    concealed: 4,
    jitter_ms: 3.25,
    buffer_ms: 60,
    bitrate_kbps: 24,
    srtp: false,
  };
  const door = { result: 'opened', by: 'dtmf', from: 'bob', reason: null };
  await until('the hub reads the devices', async () => {
    await device.publishAsync('babel/alice/stats', JSON.stringify(stats));
    await device.publishAsync('babel/alice/door', JSON.stringify(door));
    return value(await scrape(), 'babel_device_loss_percent', { station: 'alice' }) !== undefined;
  });
  // not JSON, or not the documented fields: dropped
  await device.publishAsync('babel/alice/stats', '{"packets": "many"}');

  const during = await scrape();
  t.is(value(during, 'babel_stations_online'), 2);
  t.is(value(during, 'babel_calls_active'), 1);
  t.is(value(during, 'babel_connections_total', { dialect: 'text', transport: 'tcp' }), 3);
  t.is(value(during, 'babel_connections_open', { dialect: 'text', transport: 'tcp' }), 2);
  t.is(value(during, 'babel_logins_total', { result: 'ok' }), 2);
  t.is(value(during, 'babel_logins_total', { result: 'failed' }), 1);
  t.is(value(during, 'babel_call_setup_seconds'), 1, 'one setup timed');
  t.is(value(during, 'babel_call_answer_seconds'), 1);
  t.is(value(during, 'babel_device_loss_percent', { station: 'alice' }), 1.5);
  t.is(value(during, 'babel_device_jitter_ms', { station: 'alice' }), 3.25);
  t.is(value(during, 'babel_device_concealed_frames', { station: 'alice' }), 4);
  t.true(
    (value(during, 'babel_door_events_total', { station: 'alice', result: 'opened', by: 'dtmf' }) ??
      0) >= 1,
  );
  t.is(value(during, 'babel_mqtt_connected'), 1);
  t.is(value(during, 'babel_relay_packets_forwarded_total'), 0);
  t.is(value(during, 'babel_relay_bytes_forwarded_total'), 0);

  // The page's state has the same: the call's leg with alice's statistics, the door event.
  const state = hub.hub.status();
  t.deepEqual(state.calls, [{ caller: 'alice', callee: 'bob', phase: 'active', relayed: false }]);
  t.deepEqual(state.stations.sort(), ['alice', 'bob']);

  t.is(await alice.request('HANGUP bob'), '107 bob ended');
  await until(
    'the call counted',
    async () => value(await scrape(), 'babel_calls_total', { outcome: 'ended' }) === 1,
  );
  const after = await scrape();
  t.is(value(after, 'babel_calls_active'), 0);
  alice.close();
  bob.close();
  await until(
    'connections closed',
    async () =>
      value(await scrape(), 'babel_connections_open', { dialect: 'text', transport: 'tcp' }) === 0,
  );
});
