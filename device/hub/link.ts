/**
 * The device's hub link as its config says [S-3]: plaintext to a loopback hub or with
 * `tcp://`, else TLS judged by the pin or the first-use record (device/hub/trust.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { DeviceConfig } from '../config-schema.ts';
import { resolveStateDir } from '../credentials.ts';
import { parseHubAddress } from '../hub-address.ts';
import { HubClient } from './client.ts';
import { HubTrust } from './trust.ts';

export interface HubLinkDeps {
  readonly secret: string;
  readonly mediaPort: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where `$STATE_DIRECTORY` is read (the first-use record lives there). */
  readonly env: NodeJS.ProcessEnv;
}

export function hubClientFor(
  config: Pick<DeviceConfig, 'hub' | 'hub_fingerprint' | 'name' | 'state_dir' | 'auto_create'>,
  deps: HubLinkDeps,
): HubClient {
  const { host, port, transport } = parseHubAddress(config.hub);
  // [S-3] TLS with the pinned or first-use certificate; never plaintext instead.
  const trust =
    transport === 'tls'
      ? new HubTrust({
          pin: config.hub_fingerprint ?? null,
          stateDir: resolveStateDir(config, deps.env),
          log: deps.log,
        })
      : null;
  return new HubClient({
    host,
    port,
    name: config.name,
    secret: deps.secret,
    mediaPort: deps.mediaPort,
    autoCreate: config.auto_create,
    clock: deps.clock,
    log: deps.log,
    ...(trust ? { tls: { check: (der: Buffer) => trust.check(der, `${host}:${port}`) } } : {}),
  });
}
