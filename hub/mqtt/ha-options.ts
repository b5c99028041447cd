/**
 * What the MQTT bridge needs for Home Assistant beside the broker: whether to publish
 * discovery and under which prefix (config `homeassistant`), the version on the devices,
 * and this hub's id.
 *
 * The hub id (8 hex digits) is made on first start and kept in `<data_dir>/hub-id`. It is
 * part of every Home Assistant id the hub publishes, so two hubs on one broker never
 * overwrite each other; it does not change with the TLS certificate, which may be renewed.
 * A file that is there but damaged is an error, never replaced: a new id would show every
 * station to Home Assistant as a new device.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readOrCreate } from '../../shared/read-or-create.ts';
import { packageVersion } from '../../shared/version.ts';
import type { HubConfig } from '../config-schema.ts';

export const HUB_ID_FILE = 'hub-id';
const HUB_ID = /^[0-9a-f]{8}$/;

/** The hub id in `dataDir`, made (atomically, mode 0600) if there is none. */
export function loadOrCreateHubId(
  dataDir: string,
  random: (n: number) => Buffer = randomBytes,
): string {
  return readOrCreate(path.join(dataDir, HUB_ID_FILE), {
    parse: (text) => (HUB_ID.test(text.trim()) ? text.trim() : null),
    create: () => random(4).toString('hex'),
    format: (id) => `${id}\n`,
    invalid:
      'not a hub id (8 hex digits); restore it from a backup, or delete it to make a new one (Home Assistant then sees every station as new)',
  }).value;
}

/** The bridge's Home Assistant options from the hub's config. */
export function homeAssistantOptions(config: Pick<HubConfig, 'data_dir' | 'homeassistant'>): {
  discovery: boolean;
  discoveryPrefix: string;
  hubId: string;
  swVersion: string;
} {
  return {
    discovery: config.homeassistant.enabled,
    discoveryPrefix: config.homeassistant.discovery_topic,
    hubId: loadOrCreateHubId(config.data_dir),
    swVersion: packageVersion(),
  };
}
