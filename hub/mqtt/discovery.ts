/**
 * Home Assistant MQTT discovery configs (docs/mqtt.md), as pure functions. One HA device
 * per user (`identifiers: ["babel_<user>"]`) and one for the hub itself; every config is
 * published retained on `<prefix>/<component>/<node_id>/<object_id>/config`.
 *
 * Per user:
 * - `sensor` "Call state": enum idle/calling/ringing/in_call/offline from `<base>/<user>`;
 * - `binary_sensor` "Connected" (connectivity, diagnostic) from `<base>/<user>/availability`;
 * - `event` "Doorbell" (`event_types: ["ring"]`, device class doorbell) from
 *   `<base>/<user>/doorbell`, fired when the user places a call, plus the same as a
 *   `device_automation` trigger for automations on the device;
 * - diagnostic `sensor`s of the device's call statistics from `<base>/<user>/stats`;
 * - `button` "Open door" to `<base>/<user>/set`, only if the device announced
 *   `{"door": true}` on `<base>/<user>/device`;
 * - `number` "Speaker volume" (0-100) to `<base>/<user>/set` as `{"action":"volume"}`, its
 *   state the `volume` of `<base>/<user>/device`, only if the device announced one;
 * - `button`s "Accept" and "Hang up" (`{"action":"accept"}`, `{"action":"hangup"}`) for a
 *   device that announced itself (it has an MQTT link that takes commands), and "Call
 *   <target>" (`{"action":"call","target":...}`) if it announced its `target`;
 * - `switch` "Do not disturb" (`{"action":"dnd","value":true|false}`), its state the `dnd`
 *   of `<base>/<user>/device`, only if the device announced one.
 *
 * Every command goes to `<base>/<user>/set`, the one command topic Home Assistant's login
 * may publish to [S-9] (hub/mqtt/acl.ts) and the device takes commands from.
 *
 * With a `hubId` (the hub always passes one: hub/mqtt/ha-options.ts) every node id, HA
 * device identifier and unique id carries it (`babel_<hubId>_<user>`, `babel-hub_<hubId>`),
 * so that two hubs on one broker never overwrite each other's entities. Without one, the
 * names of earlier versions (`babel_<user>`, `babel-hub`), which the bridge clears.
 *
 * Every user entity is available while both the bridge and the user are online
 * (`availability_mode: all`); "Connected" depends on the bridge alone, so it can read off.
 * Full key names are used, not HA's abbreviations, so the payloads read like the docs.
 * `default_entity_id` (HA 2025.10+) replaces the deprecated `object_id`.
 */
import {
  type DeviceAnnouncement,
  type DeviceCommand,
  type DeviceStats,
  DOOR_COMMAND,
  HA_PREFIX,
  hasStateTopic,
  OFFLINE,
  ONLINE,
  type Topics,
} from '../../protocol/mqtt/topics.ts';

/** One retained discovery message; `payload: null` removes the entity (empty payload). */
export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: Record<string, unknown> | null;
}

export interface DiscoveryOptions {
  readonly topics: Topics;
  /** Discovery prefix, `homeassistant` unless HA was configured otherwise. */
  readonly prefix?: string;
  /** Software version shown on the HA devices and in `origin`. */
  readonly swVersion?: string;
  /** This hub's id (8 hex digits), part of every id; absent: the names before hub ids. */
  readonly hubId?: string;
}

/** The options of the call state sensor, in the order HA shows them. */
export const CALL_STATES = ['idle', 'calling', 'ringing', 'in_call', 'offline'] as const;

/** The hub's own HA device; no user's identifier (`babel_...`) can equal it. */
export const BRIDGE_DEVICE_ID = 'babel-hub';

/** Diagnostic sensors over `<base>/<user>/stats`, one per `DeviceStats` field. */
const STATS: ReadonlyArray<{
  key: string;
  field: keyof DeviceStats;
  name: string;
  unit?: string;
  deviceClass?: string;
  stateClass: 'measurement' | 'total_increasing';
  icon: string;
}> = [
  {
    key: 'packets',
    field: 'packets',
    name: 'Packets received',
    stateClass: 'total_increasing',
    icon: 'mdi:counter',
  },
  {
    key: 'loss',
    field: 'loss_pct',
    name: 'Packet loss',
    unit: '%',
    stateClass: 'measurement',
    icon: 'mdi:lan-disconnect',
  },
  {
    key: 'late',
    field: 'late',
    name: 'Late packets',
    stateClass: 'total_increasing',
    icon: 'mdi:timer-alert-outline',
  },
  {
    key: 'concealed',
    field: 'concealed',
    name: 'Concealed frames',
    stateClass: 'total_increasing',
    icon: 'mdi:waveform',
  },
  {
    key: 'jitter',
    field: 'jitter_ms',
    name: 'Jitter',
    unit: 'ms',
    deviceClass: 'duration',
    stateClass: 'measurement',
    icon: 'mdi:chart-bell-curve',
  },
  {
    key: 'buffer',
    field: 'buffer_ms',
    name: 'Jitter buffer',
    unit: 'ms',
    deviceClass: 'duration',
    stateClass: 'measurement',
    icon: 'mdi:tray-full',
  },
  {
    key: 'bitrate',
    field: 'bitrate_kbps',
    name: 'Bitrate',
    unit: 'kbit/s',
    deviceClass: 'data_rate',
    stateClass: 'measurement',
    icon: 'mdi:speedometer',
  },
];

/**
 * The discovery node id of a user: `babel_<hubId>_<name>` (`babel_<name>` without a hub
 * id) with `.` (allowed in names, not in discovery topics) written `_2E`; names are
 * lowercase, so this cannot collide.
 */
export function nodeId(name: string, hubId?: string): string {
  return `babel_${hubId ? `${hubId}_` : ''}${name.replaceAll('.', '_2E')}`;
}

/** The HA device identifier of a user. */
function deviceId(name: string, hubId?: string): string {
  return `babel_${hubId ? `${hubId}_` : ''}${name}`;
}

/** The hub's HA device identifier: `babel-hub_<hubId>` (`babel-hub` without a hub id). */
export function bridgeDeviceId(hubId?: string): string {
  return hubId ? `${BRIDGE_DEVICE_ID}_${hubId}` : BRIDGE_DEVICE_ID;
}

/** An entity id suggestion: HA wants `[a-z0-9_]`; a clash only makes HA append `_2`. */
function entityId(component: string, name: string, key: string): string {
  const slug = name.replace(/[^a-z0-9]+/g, '_').replace(/_+$/, '');
  return `${component}.babel_${slug}_${key}`;
}

export function origin(opts: DiscoveryOptions): Record<string, string> {
  return opts.swVersion ? { name: 'babel-hub', sw_version: opts.swVersion } : { name: 'babel-hub' };
}

export function configTopic(opts: DiscoveryOptions, component: string, node: string, key: string) {
  return `${opts.prefix ?? HA_PREFIX}/${component}/${node}/${key}/config`;
}

/** The hub's HA device block (its groups' entities are on it too). */
export function bridgeDevice(opts: DiscoveryOptions): Record<string, unknown> {
  const device: Record<string, unknown> = {
    identifiers: [bridgeDeviceId(opts.hubId)],
    name: 'Babel hub',
    manufacturer: 'Babel Intercom',
    model: 'Intercom hub',
  };
  if (opts.swVersion) device.sw_version = opts.swVersion;
  return device;
}

/** The hub as an HA device with a connectivity sensor on `<base>/bridge/state`. */
export function bridgeDiscovery(opts: DiscoveryOptions): DiscoveryMessage[] {
  const id = bridgeDeviceId(opts.hubId);
  const device = bridgeDevice(opts);
  return [
    {
      topic: configTopic(opts, 'binary_sensor', id, 'connection'),
      payload: {
        name: 'Connection state',
        unique_id: `${id}_connection`,
        default_entity_id: 'binary_sensor.babel_hub_connection',
        state_topic: opts.topics.bridgeState,
        payload_on: ONLINE,
        payload_off: OFFLINE,
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        device,
        origin: origin(opts),
      },
    },
  ];
}

/**
 * Every discovery message of one user. The door button comes with `payload: null` unless
 * the device announced a relay, so that a device that loses it also loses the button.
 */
export function userDiscovery(
  opts: DiscoveryOptions,
  name: string,
  device: DeviceAnnouncement | null,
): DiscoveryMessage[] {
  const t = opts.topics;
  const node = nodeId(name, opts.hubId);
  const haDevice: Record<string, unknown> = {
    identifiers: [deviceId(name, opts.hubId)],
    name,
    manufacturer: 'Babel Intercom',
    model: device?.model ?? 'Intercom station',
    via_device: bridgeDeviceId(opts.hubId),
  };
  // The device's own version, else the hub's (they ship in one package).
  const sw = device?.sw_version ?? opts.swVersion;
  if (sw) haDevice.sw_version = sw;
  const common = (component: string, key: string) => ({
    unique_id: `${node}_${key}`,
    default_entity_id: entityId(component, name, key),
    device: haDevice,
    origin: origin(opts),
  });
  const both = {
    availability: [{ topic: t.bridgeState }, { topic: t.availability(name) }],
    availability_mode: 'all',
  };
  const out: DiscoveryMessage[] = [];

  if (hasStateTopic(name)) {
    out.push({
      topic: configTopic(opts, 'sensor', node, 'state'),
      payload: {
        name: 'Call state',
        ...common('sensor', 'state'),
        state_topic: t.user(name),
        value_template: '{{ value_json.state }}',
        json_attributes_topic: t.user(name),
        device_class: 'enum',
        options: [...CALL_STATES],
        icon: 'mdi:phone-classic',
        ...both,
      },
    });
  }
  out.push({
    topic: configTopic(opts, 'binary_sensor', node, 'connected'),
    payload: {
      name: 'Connected',
      ...common('binary_sensor', 'connected'),
      state_topic: t.availability(name),
      payload_on: ONLINE,
      payload_off: OFFLINE,
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      availability_topic: t.bridgeState,
    },
  });
  out.push({
    topic: configTopic(opts, 'event', node, 'doorbell'),
    payload: {
      name: 'Doorbell',
      ...common('event', 'doorbell'),
      state_topic: t.doorbell(name),
      event_types: ['ring'],
      device_class: 'doorbell',
      ...both,
    },
  });
  out.push({
    topic: configTopic(opts, 'device_automation', node, 'ring'),
    payload: {
      automation_type: 'trigger',
      topic: t.doorbell(name),
      type: 'button_short_press',
      subtype: 'doorbell',
      payload: 'ring',
      value_template: '{{ value_json.event_type }}',
      device: haDevice,
    },
  });
  for (const s of STATS) {
    const payload: Record<string, unknown> = {
      name: s.name,
      ...common('sensor', s.key),
      state_topic: t.stats(name),
      value_template: `{{ value_json.${s.field} }}`,
      state_class: s.stateClass,
      entity_category: 'diagnostic',
      icon: s.icon,
      ...both,
    };
    if (s.unit) payload.unit_of_measurement = s.unit;
    if (s.deviceClass) payload.device_class = s.deviceClass;
    out.push({ topic: configTopic(opts, 'sensor', node, s.key), payload });
  }
  out.push({
    topic: configTopic(opts, 'button', node, 'door'),
    payload: device?.door
      ? {
          name: 'Open door',
          ...common('button', 'door'),
          command_topic: t.set(name),
          payload_press: JSON.stringify(DOOR_COMMAND),
          icon: 'mdi:door-open',
          ...both,
        }
      : null,
  });
  out.push({
    topic: configTopic(opts, 'number', node, 'volume'),
    payload:
      device?.volume !== undefined
        ? {
            name: 'Speaker volume',
            ...common('number', 'volume'),
            command_topic: t.set(name),
            command_template: '{"action":"volume","value":{{ value | int }}}',
            state_topic: t.device(name),
            value_template: '{{ value_json.volume }}',
            min: 0,
            max: 100,
            step: 1,
            mode: 'slider',
            unit_of_measurement: '%',
            icon: 'mdi:volume-high',
            ...both,
          }
        : null,
  });
  const button = (key: string, label: string, command: DeviceCommand, icon: string) => ({
    topic: configTopic(opts, 'button', node, key),
    payload: {
      name: label,
      ...common('button', key),
      command_topic: t.set(name),
      payload_press: JSON.stringify(command),
      icon,
      ...both,
    },
  });
  const target = device?.target;
  out.push(
    target
      ? button('call', `Call ${target}`, { action: 'call', target }, 'mdi:phone-outgoing')
      : { topic: configTopic(opts, 'button', node, 'call'), payload: null },
  );
  for (const m of [
    button('accept', 'Accept', { action: 'accept' }, 'mdi:phone-check'),
    button('hangup', 'Hang up', { action: 'hangup' }, 'mdi:phone-hangup'),
  ]) {
    out.push(device ? m : { topic: m.topic, payload: null });
  }
  out.push({
    topic: configTopic(opts, 'switch', node, 'dnd'),
    payload:
      device?.dnd !== undefined
        ? {
            name: 'Do not disturb',
            ...common('switch', 'dnd'),
            command_topic: t.set(name),
            payload_on: JSON.stringify({ action: 'dnd', value: true }),
            payload_off: JSON.stringify({ action: 'dnd', value: false }),
            state_topic: t.device(name),
            // A JSON boolean renders as Python's True / False.
            value_template: '{{ value_json.dnd }}',
            state_on: 'True',
            state_off: 'False',
            icon: 'mdi:bell-off',
            ...both,
          }
        : null,
  });
  return out;
}
