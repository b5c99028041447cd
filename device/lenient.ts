/**
 * [S-11] Every lenient device setting in force is logged once at warn when the device
 * starts: `door.from: any` [S-10], `tcp://` to a hub that is not on this machine [S-3] and
 * an explicit `mqtt://` to another machine while the hub link is TLS [S-9, extension].
 */
import type { Logger } from 'pino';
import type { DeviceConfig } from './config-schema.ts';
import { isLoopback, parseHubAddress } from './hub-address.ts';
import { plaintextBrokerWarning } from './mqtt-transport.ts';

/** [S-11] Every lenient setting in force, at warn, once at start. */
export function lenientSettings(config: DeviceConfig): string[] {
  const found: string[] = [];
  if (config.door.from === 'any') {
    found.push(
      'door.from is any: the door key of ANY caller in a call with this unit opens the door',
    );
  }
  const hub = parseHubAddress(config.hub);
  if (hub.transport === 'tcp' && hub.forced && !isLoopback(hub.host)) {
    found.push(
      `hub is ${config.hub}: this device's secret and every call cross the network in clear (no TLS, no SRTP)`,
    );
  }
  const broker = plaintextBrokerWarning(config);
  if (broker) found.push(broker);
  return found;
}

export function warnLenient(config: DeviceConfig, log: Logger): void {
  for (const text of lenientSettings(config)) log.warn({ lenient: true }, text);
}
