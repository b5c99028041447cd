/**
 * [S-9] How the hub sets up its embedded broker's access: the generated logins from the
 * data directory (`mqtt.username` / `mqtt.password`, when set, replace the hub's own), the
 * device check against the account store, and the throttle shared with the dialects.
 */
import type { Clock } from '../../shared/clock.ts';
import type { HubConfig } from '../config-schema.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import type { AccountStore } from '../store/accounts.ts';
import type { VerifyDevice } from './broker-login.ts';
import type { BrokerAccess } from './embedded-broker.ts';
import { loadOrCreateMqttLogins, type MqttLogin } from './logins.ts';

export interface EmbeddedAccess {
  readonly access: BrokerAccess;
  /** What the hub's own bridge logs in with. */
  readonly bridge: MqttLogin;
}

/**
 * The broker's access and the bridge's login. Makes the logins file on first start; throws
 * if it is damaged (the hub then runs without MQTT and says why).
 */
export function embeddedAccess(
  config: Pick<HubConfig, 'data_dir' | 'mqtt'>,
  deps: {
    readonly accounts: Pick<AccountStore, 'getByName' | 'checkSecret'>;
    readonly clock: Clock;
    /** Absent: the broker keeps its own; null: throttling is off. */
    readonly throttle?: LoginThrottle | null | undefined;
  },
): EmbeddedAccess {
  const logins = loadOrCreateMqttLogins(config.data_dir);
  const { username, password } = config.mqtt;
  const hub = username !== undefined ? { username, password: password ?? '' } : logins.hub;
  if (config.mqtt.anonymous) return { access: { mode: 'anonymous' }, bridge: hub };
  return {
    access: {
      mode: 'login',
      baseTopic: config.mqtt.base_topic,
      hub,
      admin: logins.admin,
      verifyDevice: deviceVerifier(deps.accounts),
      throttle: deps.throttle,
      clock: deps.clock,
    },
    bridge: hub,
  };
}

/**
 * A device's Babel name and secret. An account without a secret (open registration [S-6])
 * has nothing to log in with on MQTT: the text dialect's "any password" does not carry over.
 */
export function deviceVerifier(
  accounts: Pick<AccountStore, 'getByName' | 'checkSecret'>,
): VerifyDevice {
  return async (name, secret) => {
    const user = accounts.getByName(name);
    if (!user?.hasSecret) return false;
    return accounts.checkSecret(user.id, secret);
  };
}
