/**
 * [S-9] The external-broker setup of docs/mqtt.md, run as written against a real
 * mosquitto: the password file made with `mosquitto_passwd -b`, the `mosquitto.conf` lines
 * and `scripts/templates/mosquitto-acl.conf` itself as the ACL file. Anonymous clients are
 * refused; device `door` can neither command nor overhear `kitchen`, nor command itself;
 * `admin` (Home Assistant) commands `door`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import mqtt, { type IClientOptions } from 'mqtt';
import { topicsFor } from '../../protocol/mqtt/topics.ts';
import { tempDir } from '../helpers/hub.ts';
import { Mosquitto, MqttWatch } from '../helpers/mosquitto.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ACL = path.join(ROOT, 'scripts/templates/mosquitto-acl.conf');
const DOCS = path.join(ROOT, 'docs/mqtt.md');
const topics = topicsFor('babel');
const DOOR = '{"action":"door"}';

const LOGINS = {
  hub: { username: 'babel-hub', password: 'hub-pw-0123456789' },
  admin: { username: 'admin', password: 'admin-pw-0123456789' },
  door: { username: 'door', password: 'door-secret' },
  kitchen: { username: 'kitchen', password: 'kitchen-secret' },
};

/** The `mosquitto.conf` lines docs/mqtt.md gives, with this test's file names. */
function confLines(passwd: string): string[] {
  return ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${ACL}`];
}

/** mosquitto with the documented password file and ACL. */
async function securedMosquitto(): Promise<Mosquitto> {
  const passwd = path.join(tempDir('babel-passwd-'), 'babel.passwd');
  let first = true;
  for (const { username, password } of Object.values(LOGINS)) {
    // As in the docs: -c makes the file with the first login, -b takes the password inline.
    execFileSync('mosquitto_passwd', [...(first ? ['-c'] : []), '-b', passwd, username, password]);
    first = false;
  }
  return Mosquitto.start({ anonymous: false, extraConfig: confLines(passwd).slice(1) });
}

const quick: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5000 };

test('docs/mqtt.md shows the ACL template line for line, and the mosquitto.conf lines', (t) => {
  const docs = fs.readFileSync(DOCS, 'utf8');
  const acl = fs
    .readFileSync(ACL, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  t.true(acl.length >= 10);
  for (const line of acl) t.true(docs.includes(`\n${line}\n`), line);
  for (const line of confLines('/etc/mosquitto/babel.passwd')) {
    const documented = line.replace(ACL, '/etc/mosquitto/babel.acl');
    t.true(docs.includes(documented), documented);
  }
});

test('anonymous clients are refused', async (t) => {
  const m = await securedMosquitto();
  try {
    const err = await t.throwsAsync(mqtt.connectAsync(m.url, quick));
    t.is((err as { code?: number }).code, 5, m.log);
  } finally {
    await m.dispose();
  }
});

test('door cannot command kitchen nor overhear it, nor command itself; admin commands door', async (t) => {
  const m = await securedMosquitto();
  const kitchen = await MqttWatch.connect(m.url, [topics.set('kitchen')], LOGINS.kitchen);
  const admin = await MqttWatch.connect(m.url, ['babel/#'], LOGINS.admin);
  const door = await mqtt.connectAsync(m.url, { ...quick, ...LOGINS.door });
  const hub = await mqtt.connectAsync(m.url, { ...quick, ...LOGINS.hub });
  try {
    const heard: { topic: string; payload: string }[] = [];
    const commanded = new Promise<void>((resolve) =>
      door.on('message', (topic, payload) => {
        heard.push({ topic, payload: payload.toString() });
        if (topic === topics.set('door') && payload.toString() === DOOR) resolve();
      }),
    );
    // Whatever mosquitto grants for `babel/#`, it must deliver nothing of kitchen's.
    await new Promise<void>((resolve) => door.subscribe('babel/#', { qos: 1 }, () => resolve()));
    await door.subscribeAsync(topics.set('door'), { qos: 1 });

    await door.publishAsync(topics.set('kitchen'), DOOR, { qos: 1 });
    await door.publishAsync(topics.set('door'), DOOR, { qos: 1 });
    // What door may publish goes through: its own announcement.
    await door.publishAsync(topics.device('door'), '{"door":true}', { qos: 1 });
    await admin.waitTopic(topics.device('door'));

    // kitchen's own traffic: its state from the hub, a command from admin.
    await hub.publishAsync(topics.user('kitchen'), '{"state":"idle"}', { qos: 1 });
    const admin2 = await mqtt.connectAsync(m.url, { ...quick, ...LOGINS.admin });
    await admin2.publishAsync(topics.set('kitchen'), 'kitchen-marker', { qos: 1 });
    await admin2.publishAsync(topics.set('door'), DOOR, { qos: 1 });
    await admin2.endAsync();

    await kitchen.waitTopic(topics.set('kitchen'), 'kitchen-marker');
    t.deepEqual(
      kitchen.seen.map((s) => s.payload),
      ['kitchen-marker'],
      'kitchen got only the admin command',
    );
    // admin's command reached door; nothing of kitchen's did.
    await admin.waitTopic(topics.set('door'), DOOR);
    await commanded; // the admin's, after everything of kitchen's was routed
    t.false(
      heard.some((h) => h.topic.startsWith('babel/kitchen')),
      JSON.stringify(heard),
    );
    // door's own set command never went out: the only one admin saw is admin's.
    t.is(admin.on(topics.set('door')).length, 1);
    t.is(admin.on(topics.set('kitchen')).length, 1);
  } finally {
    await door.endAsync(true);
    await hub.endAsync(true);
    await kitchen.close();
    await admin.close();
    await m.dispose();
  }
});
