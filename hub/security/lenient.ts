import type { HubConfig } from '../config-schema.ts';

/** A setting in force that trades safety for convenience, and what it lets in. */
export interface LenientSetting {
  readonly setting: string;
  readonly message: string;
}

/**
 * [S-11] Every lenient setting of the hub in force, each to be logged once at warn at
 * start. One list, so that later settings (`plaintext: all`, anonymous MQTT) join it.
 */
export function lenientSettings(config: HubConfig): LenientSetting[] {
  const found: LenientSetting[] = [];
  if (config.registration === 'open') {
    found.push({
      setting: 'registration: open',
      message:
        'registration is open: anyone who reaches the hub can create an account (and use one without a secret)',
    });
  }
  if (config.login_throttle === 'off') {
    found.push({
      setting: 'login_throttle: off',
      message: 'login throttling is off: wrong passwords can be tried as fast as the hub answers',
    });
  }
  if (config.plaintext === 'all') {
    found.push({
      setting: 'plaintext: all',
      message:
        'plaintext listeners are open to the network (plaintext: all): secrets and call keys of their clients cross it in clear, and on the embedded MQTT broker plaintext port device secrets and the admin login, which opens doors; TLS ports are the safe way in',
    });
  }
  return found;
}
