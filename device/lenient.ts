/**
 * [S-11] Every lenient device setting in force is logged once at warn when the device
 * starts. (`tcp://` to a remote hub joins the list with S-3.)
 */
import type { Logger } from 'pino';
import type { DeviceConfig } from './config-schema.ts';

/** [S-11] Every lenient setting in force, at warn, once at start. */
export function lenientSettings(config: DeviceConfig): string[] {
  const found: string[] = [];
  if (config.door.from === 'any') {
    found.push(
      'door.from is any: the door key of ANY caller in a call with this unit opens the door',
    );
  }
  return found;
}

export function warnLenient(config: DeviceConfig, log: Logger): void {
  for (const text of lenientSettings(config)) log.warn({ lenient: true }, text);
}
