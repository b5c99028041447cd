/**
 * docs/home-assistant.md and its blueprint stay true: the YAML parses, the blueprint's
 * inputs and action ids fit together, the entity ids are the ones the hub suggests, the
 * options are the hub's own, and the add-on bridge file runs in a real mosquitto bridged
 * to a real hub's embedded broker with Home Assistant's login.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse, type ScalarTag } from 'yaml';
import { loadHubConfig } from '../../../hub/config-schema.ts';
import { Hub } from '../../../hub/main.ts';
import { userDiscovery } from '../../../hub/mqtt/discovery.ts';
import { runMqttLogin } from '../../../hub/mqtt/login-command.ts';
import { loadOrCreateMqttLogins, readMqttLogins } from '../../../hub/mqtt/logins.ts';
import { loadIdentity, runOpenssl } from '../../../hub/tls/identity.ts';
import { topicsFor } from '../../../protocol/mqtt/topics.ts';
import { tempDir, testConfig } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';
import { freePort, Mosquitto, MqttWatch } from '../../helpers/mosquitto.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs/home-assistant.md'), 'utf8');
const BLUEPRINT = path.join(ROOT, 'docs/examples/babel-doorbell-notify.yaml');

/** Home Assistant's `!input name` tag, read as `{ input: name }`. */
const INPUT: ScalarTag = {
  tag: '!input',
  resolve: (value: string) => ({ input: value }),
};

/** The fenced blocks of `lang` (`''`: no language) in the chapter, in order, unindented. */
function blocks(lang: string): string[] {
  const out: string[] = [];
  let open: { indent: number; lang: string; lines: string[] } | null = null;
  for (const line of DOC.split('\n')) {
    const fence = /^( *)```(\w*)$/.exec(line);
    if (!open) {
      if (fence) open = { indent: fence[1]!.length, lang: fence[2]!, lines: [] };
    } else if (fence && fence[1]!.length === open.indent && fence[2] === '') {
      if (open.lang === lang) out.push(open.lines.join('\n'));
      open = null;
    } else open.lines.push(line.slice(open.indent));
  }
  return out;
}

/** Every `{ input: ... }` anywhere in `v`. */
function inputsUsed(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(inputsUsed);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.input === 'string' && Object.keys(o).length === 1) return [o.input];
    return Object.values(o).flatMap(inputsUsed);
  }
  return [];
}

// biome-ignore lint/suspicious/noExplicitAny: walking parsed YAML
type Yaml = any;

test('the blueprint parses, and its inputs, trigger and actions fit together', (t) => {
  const bp: Yaml = parse(fs.readFileSync(BLUEPRINT, 'utf8'), { customTags: [INPUT] });
  t.is(bp.blueprint.domain, 'automation');
  const declared = Object.keys(bp.blueprint.input).sort();
  t.deepEqual(declared, ['door_button', 'doorbell', 'phone', 'timeout']);
  t.deepEqual([...new Set(inputsUsed({ ...bp, blueprint: null }))].sort(), declared);
  // The doorbell: an MQTT event entity, its ring filtered.
  t.like(bp.blueprint.input.doorbell.selector.entity.filter[0], {
    integration: 'mqtt',
    domain: 'event',
  });
  t.like(bp.triggers[0], { trigger: 'state', entity_id: { input: 'doorbell' } });
  t.regex(bp.conditions[0].value_template, /event_type == 'ring'/);
  // The notification's action is the one the wait listens for; the door button is pressed.
  const [notify, wait, press] = bp.actions;
  t.like(notify, { domain: 'mobile_app', type: 'notify', device_id: { input: 'phone' } });
  t.is(notify.data.actions[0].action, '{{ open_action }}');
  t.is(wait.wait_for_trigger[0].event_data.action, '{{ open_action }}');
  t.is(wait.continue_on_timeout, false);
  t.like(press, { action: 'button.press', target: { entity_id: { input: 'door_button' } } });
  t.like(bp.blueprint.input.door_button.selector.entity.filter[0], { domain: 'button' });
});

test('the chapter: every YAML block parses; entity ids are the hub suggestions; options are real', (t) => {
  const yamls = blocks('yaml').map((b) => parse(b) as Yaml);
  t.true(yamls.length >= 4);
  const automation = yamls.find((y) => y?.alias === 'Doorbell to phone');
  t.truthy(automation);
  const suggested = Object.fromEntries(
    userDiscovery({ topics: topicsFor('babel'), hubId: '01234567' }, 'door', { door: true })
      .filter((m) => m.payload)
      .map((m) => [m.topic.split('/').slice(-3, -1).join('/'), m.payload!.default_entity_id]),
  );
  t.is(automation.triggers[0].entity_id, suggested['babel_01234567_door/doorbell']);
  t.is(automation.actions[2].target.entity_id, suggested['babel_01234567_door/door']);
  t.is(
    automation.actions[0].data.data.actions[0].action,
    automation.actions[1].wait_for_trigger[0].event_data.action,
  );
  // The options block and the hub config block load as hub configs.
  for (const y of yamls.filter((y) => y?.homeassistant || y?.mqtt)) {
    const text = JSON.stringify(y);
    const loaded = loadHubConfig(['--config', 'x.yaml'], {}, () => text);
    t.is(loaded.kind, 'config');
  }
  for (const id of ['event.babel_door_doorbell', 'button.babel_door_door'])
    t.true(DOC.includes(id));
});

test('the add-on bridge file: a real mosquitto bridged in TLS to a real hub with the admin login', async (t) => {
  const config = testConfig(['--mqtt', 'embedded']);
  config.mqtt.embedded_host = '127.0.0.1';
  config.mqtt.embedded_port = await freePort();
  config.mqtt.embedded_tls_port = 0;
  const store = (await import('../../../hub/store/accounts.ts')).AccountStore;
  const { openDatabase } = await import('../../../hub/store/db.ts');
  const accounts = new store(openDatabase(path.join(config.data_dir, 'babel.sqlite')));
  await accounts.createUser({ name: 'alice' });
  accounts.close();
  const bridgeFile = blocks('').find((b) => b.startsWith('connection babel-hub'));
  if (!bridgeFile) throw new Error('no bridge file in the chapter');
  // [S-9, extension] TLS to the name the certificate carries, the hub's certificate as CA;
  // never the plaintext port, which the LAN cannot reach.
  t.regex(bridgeFile, /^address babel-pi:8883$/m);
  t.regex(bridgeFile, /^bridge_cafile \/share\/mosquitto\/babel-hub\.crt$/m);
  t.false(bridgeFile.includes('1883'));
  t.false(/^bridge_insecure/m.test(bridgeFile));
  const hub = await Hub.start(config, { log: testLog });
  const admin = readMqttLogins(config.data_dir)!.admin;
  const hubId = fs.readFileSync(path.join(config.data_dir, 'hub-id'), 'utf8').trim();
  // The add-on's copy of the hub's certificate (step 2); the hub is `localhost` here, the
  // name its certificate carries besides the machine's host name.
  const caCopy = path.join(config.data_dir, 'babel-hub-copy.crt');
  fs.copyFileSync(path.join(config.data_dir, 'tls', 'hub.crt'), caCopy);
  const lines = bridgeFile
    .replace('babel-pi:8883', `localhost:${hub.mqttTlsPort}`)
    .replace('/share/mosquitto/babel-hub.crt', caCopy)
    .replace('PASSWORD-FROM-MQTT-LOGIN', admin.password)
    .split('\n');
  const addon = await Mosquitto.start({ extraConfig: lines });
  const atHub = await MqttWatch.connect(
    `mqtt://127.0.0.1:${config.mqtt.embedded_port}`,
    ['babel/+/set', 'homeassistant/status'],
    admin,
  );
  const ha = await MqttWatch.connect(addon.url, ['babel/#', 'homeassistant/#']);
  try {
    // In: discovery and state, retained on the add-on as on the hub.
    await ha.waitTopic(`homeassistant/sensor/babel_${hubId}_alice/state/config`, undefined, 20_000);
    await ha.waitTopic(`homeassistant/binary_sensor/babel-hub_${hubId}/connection/config`);
    await ha.waitTopic('babel/alice/availability', 'offline');
    await ha.waitTopic('babel/bridge/state', 'online');
    // Out: a command pressed in Home Assistant reaches the hub's broker, once.
    await ha.client.publishAsync('babel/alice/set', '{"action":"hangup"}', { qos: 1 });
    await atHub.waitTopic('babel/alice/set', '{"action":"hangup"}');
    // Home Assistant's birth goes out; discovery comes back in again.
    const from = ha.seen.length;
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await atHub.waitTopic('homeassistant/status', 'online');
    await ha.waitTopic(
      `homeassistant/sensor/babel_${hubId}_alice/state/config`,
      undefined,
      undefined,
      from,
    );
    // Nothing loops: the command came back to the add-on at most as published there.
    await ha.client.publishAsync('babel/zz-marker', 'x', { qos: 1 });
    await ha.waitTopic('babel/zz-marker');
    t.is(ha.on('babel/alice/set').length, 1);
    t.is(atHub.on('babel/alice/set').length, 1);
  } catch (err) {
    t.log(addon.log);
    throw err;
  } finally {
    await ha.close();
    await atHub.close();
    await addon.dispose();
    await hub.stop();
  }
});

test('step 1 of part A shows what `babel-hub mqtt-login` prints, in its order', async (t) => {
  const shown = blocks('').find((b) => b.startsWith('host: '));
  if (!shown) throw new Error('no mqtt-login output in the chapter');
  const dir = tempDir();
  loadOrCreateMqttLogins(dir);
  await loadIdentity({ data_dir: dir, tls: {} }, runOpenssl, 'babel-pi');
  let out = '';
  const code = runMqttLogin(
    ['--data-dir', dir],
    {},
    {
      out: (text) => {
        out += text;
      },
      err: () => {},
      interfaces: () => ({}),
    },
  );
  t.is(code, 0);
  const keys = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => l.split(':')[0]);
  t.deepEqual(keys(shown), keys(out));
  const line = (text: string, key: string) =>
    text.split('\n').find((l) => l.startsWith(`${key}: `));
  for (const key of ['tls_port', 'tls_host', 'port', 'username'])
    t.is(line(shown, key), line(out, key), key);
  // The chapter says plainly that 1883 is this machine's only unless plaintext: all.
  t.regex(
    DOC,
    /1883 is not reachable from the LAN unless the hub's config says\s+`plaintext: all`/,
  );
});
