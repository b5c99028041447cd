/**
 * What the MQTT bridge (hub/mqtt/bridge.ts) is given: its source of call events (the call
 * core), its options, and the pairing state it shows.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Backoff } from '../../shared/backoff.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CallEvent, CoreStats, PresenceEvent, UserRef, UserState } from '../core/types.ts';
import type { GroupView } from './group-feed.ts';

/** What the bridge needs of the call core (`CallCore` fits). */
export interface BridgeSource {
  observe(listener: {
    presence?: (e: PresenceEvent) => void;
    call?: (e: CallEvent) => void;
    stats?: (s: Readonly<CoreStats>) => void;
  }): void;
  /** [G-1..G-3] Counters published retained on `<base>/bridge/stats`, if the source has them. */
  readonly stats?: Readonly<CoreStats>;
  stateOf(userId: string): UserState;
  peerOf(userId: string): UserRef | null;
}

export interface MqttBridgeOptions {
  /** `mqtt://host[:port]` or `mqtts://...`. */
  readonly url: string;
  readonly baseTopic: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Default `babel-hub-<8 hex>`: unique per process, within MQTT 3.1.1's 23 characters. */
  readonly clientId?: string | undefined;
  readonly source: BridgeSource;
  /** Every known user (the account store's `listUsers`), for discovery and start-up state. */
  readonly users: () => readonly UserRef[];
  /** [G-1, G-2] Every group (the group store's `list`); tell changes with `groupsChanged`. */
  readonly groups?: () => readonly GroupView[];
  readonly log: Logger;
  readonly clock?: Clock;
  /** The MQTT.js seam. */
  readonly connectFn?: (url: string, opts: IClientOptions) => MqttClient;
  readonly backoff?: Backoff;
  readonly maxQueuedEvents?: number;
  readonly doorbellTtlMs?: number;
  /** How long `stop()` waits for the broker to take `offline` and the disconnect. */
  readonly stopTimeoutMs?: number;
  readonly discoveryPrefix?: string;
  readonly swVersion?: string;
  /** Publish Home Assistant discovery (default true); config `homeassistant.enabled`. */
  readonly discovery?: boolean;
  /** This hub's id in every Home Assistant id (hub/mqtt/ha-options.ts). */
  readonly hubId?: string;
}

/** [S-6] What `<base>/bridge/pairing` says. */
export type PairingState = 'open' | 'closed';
