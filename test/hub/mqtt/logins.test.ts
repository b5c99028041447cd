import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {
  loadOrCreateMqttLogins,
  MQTT_LOGINS_FILE,
  readMqttLogins,
} from '../../../hub/mqtt/logins.ts';
import { tempDir } from '../../helpers/hub.ts';

test('[S-9] made on first start (mode 0600), the same ever after', (t) => {
  const dir = tempDir();
  t.is(readMqttLogins(dir), null);
  const made = loadOrCreateMqttLogins(dir);
  t.is(made.hub.username, 'babel-hub');
  t.is(made.admin.username, 'admin');
  t.regex(made.admin.password, /^[A-Za-z0-9_-]{32}$/);
  t.not(made.hub.password, made.admin.password);
  t.is(fs.statSync(path.join(dir, MQTT_LOGINS_FILE)).mode & 0o777, 0o600);
  t.deepEqual(loadOrCreateMqttLogins(dir), made);
  t.deepEqual(readMqttLogins(dir), made);
});

test('[S-9] a damaged file is an error that says what to do, never replaced', (t) => {
  for (const content of ['{', '{}', '{"hub":{"username":"babel-hub","password":"x"}}']) {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, MQTT_LOGINS_FILE), content);
    t.throws(() => loadOrCreateMqttLogins(dir), { message: /damaged; remove it/ });
    t.is(fs.readFileSync(path.join(dir, MQTT_LOGINS_FILE), 'utf8'), content);
  }
});
