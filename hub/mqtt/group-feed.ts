/**
 * [G-1, G-2] Ring and paging groups on MQTT and in Home Assistant (docs/home-assistant.md).
 *
 * Each group has a retained state topic, `<base>/bridge/group/<group>`, carrying
 * `{"state": "idle"|"ringing"|"in_call"|"paging", "members": [names]}`, and (with discovery
 * on) one Home Assistant `sensor` "Group <group>" on the hub's own device, its state the
 * `state` and its attributes the members. The node id is the hub's device id, the object
 * id `group_<group>` (`.` written `_2E`, as for users), so the unique id carries the hub id.
 *
 * A group's state comes from the call core's events: `ringing` while a call placed to it
 * rings, `in_call` once a member answered, `paging` while a page to it runs, else `idle`.
 *
 * `refresh()` publishes every group and clears (empty retained payloads) the topics of
 * groups that are gone; the bridge calls it at start, on every connect and whenever the
 * group store says a group changed. Groups deleted while the hub was down are cleared the
 * way stale users are (hub/mqtt/stale-discovery.ts): the bridge subscribes to `filter`,
 * the broker hands back every retained group config of this hub, and `message` clears
 * those of groups not in the store.
 */
import type { Logger } from 'pino';
import { HA_PREFIX, type Topics } from '../../protocol/mqtt/topics.ts';
import { normalizeName } from '../../protocol/names.ts';
import type { CallEvent } from '../core/types.ts';
import {
  bridgeDevice,
  bridgeDeviceId,
  configTopic,
  type DiscoveryMessage,
  type DiscoveryOptions,
  origin,
} from './discovery.ts';

/** The states of a group's sensor, in the order Home Assistant shows them. */
export const GROUP_STATES = ['idle', 'ringing', 'in_call', 'paging'] as const;
export type GroupState = (typeof GROUP_STATES)[number];

/** A group as the feed needs it (the group store's `GroupRecord` fits). */
export interface GroupView {
  readonly name: string;
  readonly members: ReadonlyArray<{ readonly name: string }>;
}

const OBJECT_PREFIX = 'group_';

/** The object id of a group's entity: `group_<name>`, `.` written `_2E`. */
function objectId(name: string): string {
  return `${OBJECT_PREFIX}${name.replaceAll('.', '_2E')}`;
}

/** The retained state payload of a group. */
export function groupState(state: GroupState, members: readonly string[]): string {
  return JSON.stringify({ state, members });
}

/** The Home Assistant sensor of one group, on the hub's device. */
export function groupDiscovery(opts: DiscoveryOptions, name: string): DiscoveryMessage {
  const id = bridgeDeviceId(opts.hubId);
  const key = objectId(name);
  const state = opts.topics.group(name);
  return {
    topic: configTopic(opts, 'sensor', id, key),
    payload: {
      name: `Group ${name}`,
      unique_id: `${id}_${key}`,
      default_entity_id: `sensor.babel_${key.replace(/[^a-z0-9]+/g, '_').replace(/_+$/, '')}`,
      state_topic: state,
      value_template: '{{ value_json.state }}',
      json_attributes_topic: state,
      device_class: 'enum',
      options: [...GROUP_STATES],
      icon: 'mdi:account-group',
      availability_topic: opts.topics.bridgeState,
      device: bridgeDevice(opts),
      origin: origin(opts),
    },
  };
}

export interface GroupFeedOptions {
  readonly topics: Topics;
  readonly discovery: DiscoveryOptions;
  /** Publish Home Assistant configs (config `homeassistant.enabled`). */
  readonly enabled: boolean;
  /** Every group now; throws are the caller's to guard. */
  readonly groups: () => readonly GroupView[];
  /** Sets a retained topic ('' clears it); only changes go out. */
  readonly setRetained: (topic: string, value: string, force?: boolean) => void;
  /** Publishes an empty retained payload on a topic the hub did not publish this run. */
  readonly clear: (topic: string) => void;
  readonly log: Logger;
}

export class GroupFeed {
  readonly #o: GroupFeedOptions;
  /** Groups published, with their members. */
  readonly #known = new Map<string, readonly string[]>();
  /** Calls placed to a group, by call id. */
  readonly #calls = new Map<string, { group: string; state: GroupState }>();
  readonly #head: string;
  /** What to subscribe to for stale groups: every entity config on the hub's device. */
  readonly filter: string;

  constructor(opts: GroupFeedOptions) {
    this.#o = opts;
    const d = opts.discovery;
    this.#head = `${d.prefix ?? HA_PREFIX}/sensor/${bridgeDeviceId(d.hubId)}/`;
    this.filter = `${this.#head}+/config`;
  }

  /** Publishes every group's state (and entity); clears the topics of groups gone. */
  refresh(force = false): void {
    const current = new Map<string, readonly string[]>();
    for (const g of this.#o.groups())
      current.set(
        g.name,
        g.members.map((m) => m.name),
      );
    for (const [name, members] of current) {
      this.#known.set(name, members);
      if (this.#o.enabled) {
        const m = groupDiscovery(this.#o.discovery, name);
        this.#o.setRetained(m.topic, JSON.stringify(m.payload), force);
      }
      this.#publishState(name, force);
    }
    for (const name of [...this.#known.keys()]) {
      if (current.has(name)) continue;
      this.#known.delete(name);
      this.#o.log.info({ group: name }, 'group deleted; clearing its mqtt topics');
      this.#o.setRetained(groupDiscovery(this.#o.discovery, name).topic, '');
      this.#o.setRetained(this.#o.topics.group(name), '');
    }
  }

  /** A call event from the core: a call placed to a group changes the group's state. */
  call(e: CallEvent): void {
    const group = e.call.group;
    if (!group) return;
    if (e.event === 'ended') this.#calls.delete(e.call.id);
    else {
      const state = e.call.page ? 'paging' : e.event === 'started' ? 'in_call' : 'ringing';
      this.#calls.set(e.call.id, { group, state });
    }
    if (this.#known.has(group)) this.#publishState(group);
  }

  /** The state of `name`: its most involved call, else idle. */
  stateOf(name: string): GroupState {
    let best = 0;
    for (const c of this.#calls.values()) {
      if (c.group === name) best = Math.max(best, GROUP_STATES.indexOf(c.state));
    }
    return GROUP_STATES[best]!;
  }

  /**
   * Handles a retained config on `filter`: one of a group not in the store is cleared with
   * the group's state topic. Returns false for any other topic.
   */
  message(topic: string, payload: Buffer): boolean {
    const tail = '/config';
    if (!topic.startsWith(this.#head) || !topic.endsWith(tail)) return false;
    const key = topic.slice(this.#head.length, topic.length - tail.length);
    if (payload.length === 0 || !key.startsWith(OBJECT_PREFIX)) return true;
    const name = normalizeName(key.slice(OBJECT_PREFIX.length).replaceAll('_2E', '.'));
    if (name === null) return true;
    const m = groupDiscovery(this.#o.discovery, name);
    if (m.topic !== topic || this.#o.groups().some((g) => g.name === name)) return true;
    this.#o.log.info({ group: name }, 'clearing retained topics of a deleted group');
    this.#o.clear(topic);
    this.#o.clear(this.#o.topics.group(name));
    return true;
  }

  #publishState(name: string, force = false): void {
    const members = this.#known.get(name) ?? [];
    const state = groupState(this.stateOf(name), members);
    this.#o.setRetained(this.#o.topics.group(name), state, force);
  }
}
