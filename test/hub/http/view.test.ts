/**
 * The page's view of the hub, driven by the call core's observer events on a fake clock:
 * presence and last-seen, a call's phases with each leg's latest device statistics (only
 * those sent since the call began), the bounded lists of door events and ended calls.
 */
import test from 'ava';
import type { CallEvent, PresenceEvent, UserRef, UserState } from '../../../hub/core/types.ts';
import { HubView } from '../../../hub/http/view.ts';
import { FakeClock } from '../../../shared/clock.ts';

const door: UserRef = { id: 'd', name: 'door' };
const kitchen: UserRef = { id: 'k', name: 'kitchen' };
const STATS = {
  packets: 1,
  loss_pct: 2,
  late: 0,
  concealed: 3,
  jitter_ms: 4,
  buffer_ms: 60,
  bitrate_kbps: 24,
};

function setup() {
  const clock = new FakeClock();
  const states = new Map<string, UserState>();
  let presence: (e: PresenceEvent) => void = () => {};
  let call: (e: CallEvent) => void = () => {};
  const view = new HubView({
    clock,
    maxDoorEvents: 2,
    maxRecentCalls: 2,
    source: {
      observe: (l) => {
        presence = l.presence ?? presence;
        call = l.call ?? call;
      },
      stateOf: (id) => states.get(id) ?? 'offline',
      peerOf: () => null,
      users: () => [kitchen, door],
      pairing: () => ({ state: 'closed', until: null }),
    },
  });
  const set = (u: UserRef, state: UserState) => {
    states.set(u.id, state);
    presence({ user: u, state, peer: null, since: clock.wallNow() });
  };
  const info = (id: string) => ({ id, caller: door, callee: kitchen, relayed: true });
  const ev = (event: CallEvent['event'], id: string, reason: CallEvent['reason'] = null) =>
    call({ event, call: info(id), reason, durationMs: 0 });
  return { clock, view, set, ev };
}

test('stations: sorted, online now, last seen when they went offline, never seen', (t) => {
  const { clock, view, set } = setup();
  let changes = 0;
  view.onChange(() => changes++);
  const t0 = clock.wallNow();
  set(door, 'idle');
  clock.advance(60_000);
  set(door, 'offline');
  clock.advance(60_000);
  const s = view.snapshot();
  t.deepEqual(
    s.stations.map((x) => [x.name, x.state, x.lastSeen]),
    [
      ['door', 'offline', t0 + 60_000],
      ['kitchen', 'offline', null],
    ],
  );
  set(kitchen, 'idle');
  t.is(view.snapshot().stations[1]!.lastSeen, clock.wallNow());
  t.is(changes, 3);
});

test("a call: ringing, active with each leg's fresh statistics, then among the recent ones", (t) => {
  const { clock, view, ev } = setup();
  view.deviceStats('door', STATS); // before the call: not this call's
  clock.advance(1000);
  ev('ringing', 'c1');
  t.like(view.snapshot().calls[0], {
    phase: 'ringing',
    caller: 'door',
    callee: 'kitchen',
    relayed: true,
  });
  t.deepEqual(
    view.snapshot().calls[0]!.legs.map((l) => l.stats),
    [null, null],
  );
  clock.advance(2000);
  ev('started', 'c1');
  clock.advance(5000);
  view.deviceStats('kitchen', STATS);
  const c = view.snapshot().calls[0]!;
  t.is(c.phase, 'active');
  t.deepEqual(
    c.legs.map((l) => [l.station, l.stats?.loss_pct ?? null]),
    [
      ['door', null],
      ['kitchen', 2],
    ],
  );
  ev('ended', 'c1', 'ended');
  ev('ringing', 'c2');
  ev('ended', 'c2', 'timeout');
  ev('ringing', 'c3');
  ev('ended', 'c3', 'declined');
  const s = view.snapshot();
  t.deepEqual(s.calls, []);
  t.deepEqual(
    s.recentCalls.map((x) => [x.id, x.reason]),
    [
      ['c3', 'declined'],
      ['c2', 'timeout'],
    ],
  );
});

test('door events: newest first, at most maxDoorEvents', (t) => {
  const { view } = setup();
  for (const result of ['opened', 'refused', 'failed'] as const) {
    view.doorEvent('door', { result, by: 'mqtt', from: null, reason: null });
  }
  t.deepEqual(
    view.snapshot().doors.map((d) => d.result),
    ['failed', 'refused'],
  );
});
