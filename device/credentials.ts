/**
 * [S-6] The device's secret: the configured one, or the one it made on its first start and
 * keeps in its state directory (device/secret.ts). The same secret logs in to the hub and,
 * with the device's name, to MQTT [S-9].
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { DeviceConfig } from './config-schema.ts';
import { loadOrCreateSecret } from './secret.ts';

/**
 * The state directory: `state_dir` when configured, else systemd's `$STATE_DIRECTORY`
 * (the unit has `StateDirectory=babel-device`; systemd may list several, colon-separated:
 * the first is ours), else `./data/device-<name>` under the working directory, beside the
 * hub's default `./data`.
 */
export function resolveStateDir(
  config: Pick<DeviceConfig, 'state_dir' | 'name'>,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  if (config.state_dir !== undefined) return path.resolve(cwd, config.state_dir);
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  return path.resolve(cwd, 'data', `device-${config.name}`);
}

export interface DeviceSecret {
  readonly secret: string;
  /** `config`: from the config; `stored`: kept in the state directory; `created`: made now. */
  readonly source: 'config' | 'stored' | 'created';
  /** The file, for `stored` and `created`. */
  readonly path: string | null;
}

/**
 * The secret this device logs in with. A configured secret wins; otherwise the stored one
 * is read, or a new one made and stored (logged at info with its place, never its value).
 * Throws when the state directory cannot be written or holds an unusable secret file: a
 * local problem that stops the device with a clear line rather than locking it out.
 */
export function deviceSecret(
  config: Pick<DeviceConfig, 'secret' | 'state_dir' | 'name'>,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): DeviceSecret {
  if (config.secret !== undefined) return { secret: config.secret, source: 'config', path: null };
  const dir = resolveStateDir(config, env, cwd);
  let stored: ReturnType<typeof loadOrCreateSecret>;
  try {
    stored = loadOrCreateSecret(dir);
  } catch (err) {
    throw new Error(
      `no secret configured, and none can be kept in the state directory ${dir} ` +
        `(${(err as Error).message}): set secret, or state_dir to a writable directory`,
      { cause: err },
    );
  }
  if (stored.created) {
    log.info(
      { path: stored.path },
      'no secret configured: created one for this device and stored it (mode 0600)',
    );
  } else {
    log.debug({ path: stored.path }, 'using the stored device secret');
  }
  return {
    secret: stored.secret,
    source: stored.created ? 'created' : 'stored',
    path: stored.path,
  };
}

/**
 * [S-9] The broker login: the device's Babel name and secret, unless the config gives an
 * explicit `mqtt.username` (then with `mqtt.password` as configured).
 */
export function mqttLogin(
  c: DeviceConfig['mqtt'],
  name: string,
  secret: string,
): { username: string; password?: string } {
  if (c.username !== undefined) {
    return c.password !== undefined
      ? { username: c.username, password: c.password }
      : { username: c.username };
  }
  return { username: name, password: c.password ?? secret };
}
