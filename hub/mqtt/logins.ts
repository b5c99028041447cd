/**
 * [S-9] The embedded broker's own logins: one for the hub's bridge, one (`admin`) for Home
 * Assistant. Made on first start with random passwords, kept in `<data_dir>/mqtt-logins.json`
 * (mode 0600) and printed by `babel-hub mqtt-login`. Devices log in with their Babel
 * name and secret instead; the user names here are therefore not usable as device names
 * on MQTT.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeDir } from '../../shared/make-dir.ts';

export const MQTT_LOGINS_FILE = 'mqtt-logins.json';
export const HUB_MQTT_USER = 'babel-hub';
export const ADMIN_MQTT_USER = 'admin';

export interface MqttLogin {
  readonly username: string;
  readonly password: string;
}

export interface MqttLogins {
  readonly hub: MqttLogin;
  readonly admin: MqttLogin;
}

/** The stored logins, made first if there are none. A damaged file is an error, never replaced. */
export function loadOrCreateMqttLogins(
  dataDir: string,
  random: (n: number) => Buffer = randomBytes,
): MqttLogins {
  const file = path.join(dataDir, MQTT_LOGINS_FILE);
  let text: string | null = null;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) return parseLogins(text, file);
  const logins: MqttLogins = {
    hub: { username: HUB_MQTT_USER, password: random(24).toString('base64url') },
    admin: { username: ADMIN_MQTT_USER, password: random(24).toString('base64url') },
  };
  makeDir(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return logins;
}

/** The stored logins without making any; null when the hub has not made them yet. */
export function readMqttLogins(dataDir: string): MqttLogins | null {
  const file = path.join(dataDir, MQTT_LOGINS_FILE);
  try {
    return parseLogins(fs.readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function parseLogins(text: string, file: string): MqttLogins {
  const bad = () =>
    new Error(`${file} is damaged; remove it and restart the hub to make new logins`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad();
  }
  const login = (v: unknown, username: string): MqttLogin => {
    const o = v as Partial<MqttLogin> | null;
    if (typeof o?.password !== 'string' || o.password.length < 16 || o.username !== username) {
      throw bad();
    }
    return { username, password: o.password };
  };
  const r = raw as { hub?: unknown; admin?: unknown } | null;
  return { hub: login(r?.hub, HUB_MQTT_USER), admin: login(r?.admin, ADMIN_MQTT_USER) };
}
