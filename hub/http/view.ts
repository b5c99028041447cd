/**
 * What the web page shows, kept up to date from the call core's observer events, the
 * devices' MQTT statistics and door events (hub/metrics/device-feed.ts) and the pairing
 * window: a plain snapshot for `GET /api/state` and the server-sent events of
 * `GET /api/events`. Memory is bounded: one entry per known user, the calls in progress,
 * the last `maxDoorEvents` door events and `maxRecentCalls` ended calls.
 */
import type { DoorEventPayload } from '../../protocol/mqtt/door.ts';
import type { DeviceStats } from '../../protocol/mqtt/topics.ts';
import type { Clock, Timer } from '../../shared/clock.ts';
import type { CallEvent, PresenceEvent, UserRef, UserState } from '../core/types.ts';
import type { CallLegCounts, RelayLegCounts } from '../relay/leg-counts.ts';

/** What the view reads of the hub (the hub's core, accounts and access fit). */
export interface ViewSource {
  observe(listener: { presence?: (e: PresenceEvent) => void; call?: (e: CallEvent) => void }): void;
  stateOf(userId: string): UserState;
  peerOf(userId: string): UserRef | null;
  users(): readonly UserRef[];
  pairing(): { state: 'open' | 'closed'; until: number | null };
  /** [M-4] What each leg of the call's relay carried (caller, callee); null when not relayed. */
  relayCounts?(callId: string): CallLegCounts | null;
}

export interface StationView {
  name: string;
  state: UserState;
  peer: string | null;
  /** Wall ms the current state began (known only for changes this hub has seen). */
  since: number | null;
  /** Wall ms the station was last online: now while online, null if never seen. */
  lastSeen: number | null;
}

/** One leg of a call: what its device says it receives (MQTT `<base>/<name>/stats`). */
export interface LegView {
  station: string;
  /** Null until the device published statistics in this call. */
  stats: DeviceStats | null;
  statsAt: number | null;
  /**
   * [M-4] The hub relay's packets and bytes from (`in`) and to (`out`) this station's
   * device; null when the call does not go through the relay (direct media).
   */
  relay: RelayLegCounts | null;
}

export interface CallView {
  id: string;
  caller: string;
  callee: string;
  phase: 'ringing' | 'active' | 'ended';
  relayed: boolean;
  ringingAt: number;
  startedAt: number | null;
  endedAt: number | null;
  reason: string | null;
  legs: LegView[];
}

export interface DoorView extends DoorEventPayload {
  station: string;
  at: number;
}

export interface Snapshot {
  now: number;
  stations: StationView[];
  calls: CallView[];
  recentCalls: CallView[];
  doors: DoorView[];
  pairing: { state: 'open' | 'closed'; until: number | null };
}

export interface HubViewOptions {
  source: ViewSource;
  clock: Clock;
  maxDoorEvents?: number;
  maxRecentCalls?: number;
  /** While a relayed call is up, listeners hear of the relay's counts this often (ms). */
  relayRefreshMs?: number;
}

export class HubView {
  readonly #source: ViewSource;
  readonly #clock: Clock;
  readonly #maxDoors: number;
  readonly #maxRecent: number;
  readonly #seen = new Map<string, { since: number; lastSeen: number | null }>();
  readonly #calls = new Map<string, CallView>();
  readonly #recent: CallView[] = [];
  readonly #doors: DoorView[] = [];
  readonly #stats = new Map<string, { stats: DeviceStats; at: number }>();
  readonly #listeners = new Set<() => void>();
  readonly #relayRefreshMs: number;
  /** Ticks while a call in progress goes through the relay: its counts move on their own. */
  #relayTick: Timer | null = null;

  constructor(opts: HubViewOptions) {
    this.#source = opts.source;
    this.#clock = opts.clock;
    this.#maxDoors = opts.maxDoorEvents ?? 20;
    this.#maxRecent = opts.maxRecentCalls ?? 10;
    this.#relayRefreshMs = opts.relayRefreshMs ?? 2000;
    opts.source.observe({
      presence: (e) => this.#presence(e),
      call: (e) => this.#call(e),
    });
  }

  /** Hears every change; returns the function that stops it. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Something the view does not track itself changed (pairing, users): tell listeners. */
  changed(): void {
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch {
        // a listener's failure is its own (a closed event stream)
      }
    }
  }

  /** A device's statistics (MQTT `<base>/<name>/stats`). */
  deviceStats(station: string, stats: DeviceStats): void {
    this.#stats.set(station, { stats, at: this.#clock.wallNow() });
    for (const call of this.#calls.values()) {
      if (call.caller === station || call.callee === station) {
        this.#tickRelay(); // [G-3] a call moved to the relay tells no call event
        this.changed();
      }
    }
  }

  /** The latest statistics of every device, with the wall ms they came. */
  latestStats(): ReadonlyMap<string, { stats: DeviceStats; at: number }> {
    return this.#stats;
  }

  /** A door event (MQTT `<base>/<name>/door`) [S-10]. */
  doorEvent(station: string, event: DoorEventPayload): void {
    this.#doors.unshift({ ...event, station, at: this.#clock.wallNow() });
    this.#doors.length = Math.min(this.#doors.length, this.#maxDoors);
    this.changed();
  }

  snapshot(): Snapshot {
    const now = this.#clock.wallNow();
    const stations = this.#source.users().map((u): StationView => {
      const state = this.#source.stateOf(u.id);
      const seen = this.#seen.get(u.name);
      return {
        name: u.name,
        state,
        peer: this.#source.peerOf(u.id)?.name ?? null,
        since: seen?.since ?? null,
        lastSeen: state === 'offline' ? (seen?.lastSeen ?? null) : now,
      };
    });
    stations.sort((a, b) => a.name.localeCompare(b.name));
    return {
      now,
      stations,
      calls: [...this.#calls.values()].map((c) => this.#withLegs(c)),
      recentCalls: this.#recent.map((c) => ({ ...c })),
      doors: this.#doors.map((d) => ({ ...d })),
      pairing: this.#source.pairing(),
    };
  }

  #withLegs(c: CallView): CallView {
    const since = c.startedAt ?? c.ringingAt;
    const counts = this.#source.relayCounts?.(c.id) ?? null;
    const leg = (station: string, relay: RelayLegCounts | null): LegView => {
      const s = this.#stats.get(station);
      return s && s.at >= since
        ? { station, stats: s.stats, statsAt: s.at, relay }
        : { station, stats: null, statsAt: null, relay };
    };
    return {
      ...c,
      // [G-3] a direct call moved to the relay is relayed from then on
      relayed: c.relayed || counts !== null,
      legs: [leg(c.caller, counts?.[0] ?? null), leg(c.callee, counts?.[1] ?? null)],
    };
  }

  /** Keeps the relay tick running exactly while an answered call goes through the relay. */
  #tickRelay(): void {
    const relayed = [...this.#calls.values()].some(
      (c) => c.phase === 'active' && (this.#source.relayCounts?.(c.id) ?? null) !== null,
    );
    if (relayed && !this.#relayTick) {
      this.#relayTick = this.#clock.setInterval(() => this.changed(), this.#relayRefreshMs);
    } else if (!relayed && this.#relayTick) {
      this.#relayTick.cancel();
      this.#relayTick = null;
    }
  }

  #presence(e: PresenceEvent): void {
    // going offline stamps when the station was last seen; null while online
    this.#seen.set(e.user.name, {
      since: e.since,
      lastSeen: e.state === 'offline' ? e.since : null,
    });
    this.changed();
  }

  #call(e: CallEvent): void {
    const now = this.#clock.wallNow();
    const { id } = e.call;
    if (e.event === 'ringing') {
      this.#calls.set(id, {
        id,
        caller: e.call.caller.name,
        callee: e.call.callee.name,
        phase: 'ringing',
        relayed: e.call.relayed,
        ringingAt: now,
        startedAt: null,
        endedAt: null,
        reason: null,
        legs: [],
      });
    } else if (e.event === 'started') {
      const c = this.#calls.get(id);
      if (c) {
        c.phase = 'active';
        c.startedAt = now;
      }
    } else {
      const c = this.#calls.get(id);
      if (c) {
        this.#calls.delete(id);
        const ended = this.#withLegs(c);
        ended.phase = 'ended';
        ended.endedAt = now;
        ended.reason = e.reason;
        this.#recent.unshift(ended);
        this.#recent.length = Math.min(this.#recent.length, this.#maxRecent);
      }
    }
    this.#tickRelay();
    this.changed();
  }
}
