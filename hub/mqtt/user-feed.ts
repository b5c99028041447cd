/**
 * The MQTT bridge's Home Assistant discovery of users (hub/mqtt/discovery.ts): which users
 * have their entities published, what their devices announced on `<base>/<user>/device`
 * (a door, a volume, a target, do-not-disturb), and clearing the entities and state topics
 * of a user that is gone. Publishing goes through the bridge's retained store.
 */
import type { Logger } from 'pino';
import {
  type DeviceAnnouncement,
  hasStateTopic,
  parseDeviceAnnouncement,
  type Topics,
} from '../../protocol/mqtt/topics.ts';
import type { UserRef } from '../core/types.ts';
import { bridgeDiscovery, type DiscoveryOptions, userDiscovery } from './discovery.ts';

export interface UserFeedOptions {
  readonly topics: Topics;
  readonly discovery: DiscoveryOptions;
  /** Publish Home Assistant configs (config `homeassistant.enabled`). */
  readonly enabled: boolean;
  /** Every user now (already guarded). */
  readonly users: () => readonly UserRef[];
  /** The bridge's latest value of a retained topic it owns. */
  readonly retained: (topic: string) => string | undefined;
  /** Sets a retained topic ('' clears it); only changes go out unless `force`. */
  readonly setRetained: (topic: string, value: string, force?: boolean) => void;
  readonly log: Logger;
}

export class UserFeed {
  readonly #o: UserFeedOptions;
  readonly #devices = new Map<string, DeviceAnnouncement>();
  /** Users whose discovery is in the retained store. */
  readonly #known = new Set<string>();

  constructor(opts: UserFeedOptions) {
    this.#o = opts;
  }

  /** The users the bridge has published. */
  get known(): ReadonlySet<string> {
    return this.#known;
  }

  /** Recomputes discovery for every user; users gone from the store lose theirs. */
  refresh(force: boolean): void {
    if (!this.#o.enabled) return;
    for (const m of bridgeDiscovery(this.#o.discovery)) {
      this.#o.setRetained(m.topic, JSON.stringify(m.payload), force);
    }
    const current = new Set(this.#o.users().map((u) => u.name));
    for (const name of current) this.discover(name, force);
    for (const name of [...this.#known]) {
      if (!current.has(name)) this.#forget(name);
    }
  }

  /** Publishes the discovery of `name` (from its device's announcement, if any). */
  discover(name: string, force = false): void {
    this.#known.add(name);
    if (!this.#o.enabled) return;
    const device = this.#devices.get(name) ?? null;
    for (const m of userDiscovery(this.#o.discovery, name, device)) {
      if (m.payload) this.#o.setRetained(m.topic, JSON.stringify(m.payload), force);
      else if (this.#o.retained(m.topic)) this.#o.setRetained(m.topic, '');
    }
  }

  /**
   * A message on `<base>/+/device`: a user's device announced what it has. Returns false
   * for any other topic.
   */
  message(topic: string, payload: Buffer): boolean {
    const owner = this.#o.topics.deviceOwner(topic);
    if (owner === null) return false;
    if (!this.#o.users().some((u) => u.name === owner)) return true;
    const next = parseDeviceAnnouncement(payload);
    const before = this.#devices.get(owner);
    if (JSON.stringify(before ?? null) === JSON.stringify(next)) return true;
    if (next) this.#devices.set(owner, next);
    else this.#devices.delete(owner);
    this.#o.log.debug({ user: owner, device: next }, 'device announcement');
    this.discover(owner);
    return true;
  }

  #forget(name: string): void {
    const t = this.#o.topics;
    this.#known.delete(name);
    this.#devices.delete(name);
    for (const m of userDiscovery(this.#o.discovery, name, { door: true })) {
      if (this.#o.retained(m.topic) !== undefined) this.#o.setRetained(m.topic, '');
    }
    this.#o.setRetained(t.availability(name), '');
    if (hasStateTopic(name)) this.#o.setRetained(t.user(name), '');
  }
}
