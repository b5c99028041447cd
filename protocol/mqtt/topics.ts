/**
 * The hub's MQTT topics and payloads (docs/mqtt.md), as pure functions: names in, strings
 * and plain objects out. The bridge decides when to publish; this file decides what.
 *
 * ```
 * <base>/bridge/state        online | offline             retained, the hub's last will
 * <base>/bridge/pairing      open | closed                retained [S-6]
 * <base>/bridge/stats        {"group_calls","pages","relay_fallbacks"}  retained [G-1..G-3]
 * <base>/bridge/group/<group> {"state","members"}        retained [G-1, G-2]
 * <base>/<user>/availability online | offline             retained
 * <base>/<user>              {"state","peer","since"}     retained
 * <base>/calls               {"event","call_id",...}      not retained
 * <base>/<user>/doorbell     {"event_type":"ring",...}    not retained (HA event entity)
 * <base>/<user>/device       {"door":bool,"volume":N,...} retained, published by the device
 * <base>/<user>/stats        DeviceStats                  published by the device
 * <base>/<user>/set          {"action":...}               commands to the device
 * ```
 */
import type { EndReason, UserState } from '../codes.ts';
import { normalizeName } from '../names.ts';

/** What the call payloads read of a call event (the hub core's `CallEvent` fits). */
export interface CallEvent {
  readonly event: 'ringing' | 'started' | 'ended';
  readonly call: {
    readonly id: string;
    readonly caller: { readonly name: string };
    readonly callee: { readonly name: string };
    /** [G-1, G-2] The group the call was placed to, if any. */
    readonly group?: string | undefined;
    /** [G-2] A page. */
    readonly page?: boolean | undefined;
  };
  readonly reason: EndReason | null;
  /** Time in the call (answered to ended), 0 if never answered. */
  readonly durationMs: number;
}

export const ONLINE = 'online';
export const OFFLINE = 'offline';

/** Home Assistant's default discovery prefix and its birth topic. */
export const HA_PREFIX = 'homeassistant';

/**
 * User names whose state topic `<base>/<name>` would be another hub topic. A user named
 * `calls` keeps every other topic; its state topic is not published (docs/mqtt.md).
 */
const RESERVED = new Set(['calls']);

/** Every topic name under one base topic (`babel` by default). */
export function topicsFor(base: string) {
  return {
    base,
    bridgeState: `${base}/bridge/state`,
    /** [S-6] Whether the hub's pairing window is open. */
    pairing: `${base}/bridge/pairing`,
    /** [G-1..G-3] The call core's counters since start (extension). */
    bridgeStats: `${base}/bridge/stats`,
    /** [G-1, G-2] A group's state and members (extension). */
    group: (name: string) => `${base}/bridge/group/${name}`,
    calls: `${base}/calls`,
    user: (name: string) => `${base}/${name}`,
    availability: (name: string) => `${base}/${name}/availability`,
    doorbell: (name: string) => `${base}/${name}/doorbell`,
    device: (name: string) => `${base}/${name}/device`,
    stats: (name: string) => `${base}/${name}/stats`,
    set: (name: string) => `${base}/${name}/set`,
    /** Subscription for every device's announcement. */
    anyDevice: `${base}/+/device`,
    /** The user a `<base>/<user>/device` topic belongs to, or null. */
    deviceOwner(topic: string): string | null {
      const head = `${base}/`;
      const tail = '/device';
      if (!topic.startsWith(head) || !topic.endsWith(tail)) return null;
      const name = topic.slice(head.length, topic.length - tail.length);
      return name.length > 0 && !name.includes('/') ? name : null;
    },
    haStatus: `${HA_PREFIX}/status`,
  };
}

export type Topics = ReturnType<typeof topicsFor>;

/** False for names whose state topic collides with a hub topic (`calls`). */
export function hasStateTopic(name: string): boolean {
  return !RESERVED.has(name);
}

/** `<base>/<user>` payload. */
export interface UserStatePayload {
  state: UserState;
  peer: string | null;
  /** ISO-8601, UTC. */
  since: string;
}

export function userState(p: {
  state: UserState;
  peer: string | null;
  since: number;
}): UserStatePayload {
  return { state: p.state, peer: p.peer, since: new Date(p.since).toISOString() };
}

export function availability(state: UserState): typeof ONLINE | typeof OFFLINE {
  return state === 'offline' ? OFFLINE : ONLINE;
}

/** `<base>/calls` payload. */
export interface CallEventPayload {
  event: CallEvent['event'];
  call_id: string;
  caller: string;
  callee: string;
  reason: CallEvent['reason'];
  duration_ms: number;
  /**
   * [G-1, G-2] The group the call was placed to (extension; absent for a call to a user).
   * While a group rings, and for a page, `callee` is the group too; once a member
   * answers, `callee` is that member.
   */
  group?: string;
  /** [G-2] Present (true) for a page. */
  page?: true;
}

export function callEvent(e: CallEvent): CallEventPayload {
  return {
    event: e.event,
    call_id: e.call.id,
    caller: e.call.caller.name,
    callee: e.call.callee.name,
    reason: e.reason,
    duration_ms: Math.round(e.durationMs),
    ...(e.call.group ? { group: e.call.group } : {}),
    ...(e.call.page ? { page: true as const } : {}),
  };
}

/**
 * `<base>/<caller>/doorbell` payload, sent when the caller's call starts ringing. Home
 * Assistant's event entity takes `event_type`; the other keys become event attributes.
 */
export interface DoorbellPayload {
  event_type: 'ring';
  callee: string;
  call_id: string;
}

export function doorbell(e: CallEvent): DoorbellPayload {
  return { event_type: 'ring', callee: e.call.callee.name, call_id: e.call.id };
}

/**
 * `<base>/<user>/device`: what a device agent announces about itself, retained. Only
 * `door` changes what the hub publishes (the "Open door" button); the rest labels the
 * Home Assistant device.
 */
export interface DeviceAnnouncement {
  /** The device drives a door relay and obeys `{"action":"door"}`. */
  door: boolean;
  /** The speaker's volume 0..100; when present, Home Assistant gets a volume number. */
  volume?: number;
  /** Do not disturb is on; when present, Home Assistant gets a switch (extension). */
  dnd?: boolean;
  /** Whom the device's button calls; when present, Home Assistant gets a "Call" button. */
  target?: string;
  model?: string;
  sw_version?: string;
}

/** Parses a device announcement; an empty or malformed payload counts as none. */
export function parseDeviceAnnouncement(payload: Buffer | string): DeviceAnnouncement | null {
  const text = payload.toString();
  if (text.length === 0 || text.length > 4096) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const out: DeviceAnnouncement = { door: o.door === true };
  if (Number.isInteger(o.volume) && (o.volume as number) >= 0 && (o.volume as number) <= 100)
    out.volume = o.volume as number;
  if (typeof o.dnd === 'boolean') out.dnd = o.dnd;
  if (typeof o.target === 'string') {
    const target = normalizeName(o.target);
    if (target !== null) out.target = target;
  }
  if (typeof o.model === 'string' && o.model.length <= 64) out.model = o.model;
  if (typeof o.sw_version === 'string' && o.sw_version.length <= 64) out.sw_version = o.sw_version;
  return out;
}

/**
 * `<base>/<user>/stats`: a device's own call statistics, every 5 s during a call. The
 * device agent publishes it; the hub only describes it to Home Assistant.
 */
export interface DeviceStats {
  /** RTP packets received in this call. */
  packets: number;
  /** Packets lost, percent of expected (RFC 3550 cumulative). */
  loss_pct: number;
  /** Packets that arrived after their play-out slot. */
  late: number;
  /** Frames concealed (losses, underruns). */
  concealed: number;
  /** RFC 3550 interarrival jitter. */
  jitter_ms: number;
  /** Jitter buffer depth. */
  buffer_ms: number;
  /** Received media bitrate. */
  bitrate_kbps: number;
  // Wave 2 (absent from older devices; this device always publishes them):
  /** [S-4] Whether this call's media is SRTP (signaling over TLS). */
  srtp?: boolean;
  /** [S-5] SRTP packets that failed authentication: dropped, never played. */
  srtp_auth_failed?: number;
  /** [S-5] SRTP packets replayed or older than the replay window: dropped, never played. */
  srtp_replayed?: number;
  /** [G-3] Calls this device moved to the hub's relay since it started (extension). */
  relay_fallbacks?: number;
}

/**
 * `<base>/<user>/set` commands (device side); the hub advertises every one to Home
 * Assistant (hub/mqtt/discovery.ts). `dnd` is an extension: do not disturb on or off.
 */
export type DeviceCommand =
  | { action: 'call'; target: string }
  /** [G-2] Pages a group (extension); `hangup` ends the page. */
  | { action: 'page'; target: string }
  | { action: 'accept' }
  | { action: 'hangup' }
  | { action: 'door' }
  | { action: 'volume'; value: number }
  | { action: 'dnd'; value: boolean };

export const DOOR_COMMAND: DeviceCommand = { action: 'door' };
