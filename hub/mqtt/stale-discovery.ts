/**
 * Clears the retained Home Assistant entities and state topics of users that are gone:
 * deleted while the hub was down (the bridge forgets users deleted while it runs), or
 * published under the names of versions before hub ids.
 *
 * The broker is the record of what the hub published. Every user's discovery includes one
 * retained "Connected" config, `<prefix>/binary_sensor/<node>/connected/config`, whose
 * device block names the user (`name`) and the hub (`via_device`). The bridge subscribes
 * to that filter (and to the old bridge config); the broker hands back every retained one.
 * For each:
 * - `via_device` is this hub's id and the user is not in the store: every discovery topic
 *   of the user is cleared, and its availability, state and device topics;
 * - `via_device` is the id of versions before hub ids (`babel-hub`, only when this hub has
 *   an id): the user's old discovery topics are cleared (a current user has new ones), and
 *   for a user not in the store its state topics too.
 * Another hub's entities (another `via_device`) are never touched; empty payloads (what
 * clearing leaves) are ignored. Only topics computed from the user's name are cleared,
 * and only when the message came on that user's own config topic.
 */
import type { Logger } from 'pino';
import { HA_PREFIX, hasStateTopic } from '../../protocol/mqtt/topics.ts';
import { normalizeName } from '../../protocol/names.ts';
import {
  BRIDGE_DEVICE_ID,
  bridgeDeviceId,
  bridgeDiscovery,
  type DiscoveryOptions,
  userDiscovery,
} from './discovery.ts';

export interface StaleDiscoveryOptions {
  /** The bridge's discovery options: prefix, topics, hub id. */
  readonly discovery: DiscoveryOptions;
  /** Whether `name` is a user in the store now. */
  readonly isUser: (name: string) => boolean;
  /** Publishes an empty retained payload on `topic`. */
  readonly clear: (topic: string) => void;
  readonly log: Logger;
}

/** A device that has every optional entity, so that every topic is listed. */
const EVERY_ENTITY = { door: true, volume: 0, dnd: false, target: 'x' } as const;

export class StaleDiscovery {
  readonly #o: StaleDiscoveryOptions;
  readonly #prefix: string;
  readonly #legacy: DiscoveryOptions | null;
  readonly #legacyBridgeTopic: string | null;
  /** What to subscribe to: every user's Connected config, and the old bridge config. */
  readonly filters: readonly string[];

  constructor(opts: StaleDiscoveryOptions) {
    this.#o = opts;
    this.#prefix = opts.discovery.prefix ?? HA_PREFIX;
    const { hubId: _, ...legacy } = opts.discovery;
    this.#legacy = opts.discovery.hubId ? legacy : null;
    this.#legacyBridgeTopic = this.#legacy
      ? (bridgeDiscovery(this.#legacy)[0]?.topic ?? null)
      : null;
    this.filters = [
      `${this.#prefix}/binary_sensor/+/connected/config`,
      ...(this.#legacyBridgeTopic ? [this.#legacyBridgeTopic] : []),
    ];
  }

  /** Handles `topic` if it is one of `filters`'; returns false for any other topic. */
  message(topic: string, payload: Buffer): boolean {
    if (topic === this.#legacyBridgeTopic) {
      if (payload.length > 0) {
        this.#o.log.info('clearing the hub entity of an earlier version from home assistant');
        this.#o.clear(topic);
      }
      return true;
    }
    const head = `${this.#prefix}/binary_sensor/`;
    const tail = '/connected/config';
    if (!topic.startsWith(head) || !topic.endsWith(tail)) return false;
    if (payload.length === 0) return true;
    const device = parseDevice(payload);
    if (!device) return true;
    const name = normalizeName(device.name);
    if (name === null) return true;
    const gone = !this.#o.isUser(name);
    if (device.via === bridgeDeviceId(this.#o.discovery.hubId)) {
      if (gone && this.#owns(this.#o.discovery, name, topic)) {
        this.#o.log.info({ user: name }, 'clearing retained topics of a deleted user');
        this.#clearUser(this.#o.discovery, name, true);
      }
    } else if (this.#legacy && device.via === BRIDGE_DEVICE_ID) {
      if (this.#owns(this.#legacy, name, topic)) {
        this.#o.log.info(
          { user: name, deleted: gone },
          'clearing home assistant entities of an earlier version (ids without the hub id)',
        );
        this.#clearUser(this.#legacy, name, gone);
      }
    }
    return true;
  }

  /** Whether `topic` is the Connected config of `name` under `opts`. */
  #owns(opts: DiscoveryOptions, name: string, topic: string): boolean {
    return userDiscovery(opts, name, null).some(
      (m) => m.topic === topic && m.topic.endsWith('/connected/config'),
    );
  }

  #clearUser(opts: DiscoveryOptions, name: string, state: boolean): void {
    for (const m of userDiscovery(opts, name, EVERY_ENTITY)) this.#o.clear(m.topic);
    if (!state) return;
    const t = opts.topics;
    this.#o.clear(t.availability(name));
    this.#o.clear(t.device(name));
    if (hasStateTopic(name)) this.#o.clear(t.user(name));
  }
}

function parseDevice(payload: Buffer): { name: string; via: string } | null {
  if (payload.length > 16 * 1024) return null;
  try {
    const v = JSON.parse(payload.toString()) as {
      device?: { name?: unknown; via_device?: unknown };
    };
    const d = v?.device;
    if (typeof d?.name !== 'string' || typeof d.via_device !== 'string') return null;
    return { name: d.name, via: d.via_device };
  } catch {
    return null;
  }
}
