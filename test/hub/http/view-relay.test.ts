/**
 * [M-4] The page's view shows the hub relay's packets and bytes per leg (from the relay's
 * per-call counts), or no counts for a direct call, and while a relayed call is up it tells
 * its listeners periodically, since those counts move without any call event.
 */
import test from 'ava';
import type { CallEvent, UserRef } from '../../../hub/core/types.ts';
import { HubView } from '../../../hub/http/view.ts';
import type { CallLegCounts } from '../../../hub/relay/leg-counts.ts';
import { FakeClock } from '../../../shared/clock.ts';

const door: UserRef = { id: 'd', name: 'door' };
const kitchen: UserRef = { id: 'k', name: 'kitchen' };
const counts = (n: number) => ({
  packetsIn: n,
  bytesIn: n * 100,
  packetsOut: n + 1,
  bytesOut: (n + 1) * 100,
});

function setup() {
  const clock = new FakeClock();
  const relay = new Map<string, CallLegCounts>();
  let call: (e: CallEvent) => void = () => {};
  const view = new HubView({
    clock,
    relayRefreshMs: 1000,
    source: {
      observe: (l) => {
        call = l.call ?? call;
      },
      stateOf: () => 'idle',
      peerOf: () => null,
      users: () => [door, kitchen],
      pairing: () => ({ state: 'closed', until: null }),
      relayCounts: (id) => relay.get(id) ?? null,
    },
  });
  let changes = 0;
  view.onChange(() => changes++);
  const ev = (event: CallEvent['event'], id: string, relayed: boolean) =>
    call({
      event,
      call: { id, caller: door, callee: kitchen, relayed },
      reason: event === 'ended' ? 'ended' : null,
      durationMs: 0,
    });
  return { clock, view, relay, ev, changes: () => changes };
}

test('a direct call: no relay counts on its legs, not relayed', (t) => {
  const { view, ev } = setup();
  ev('ringing', 'c1', false);
  ev('started', 'c1', false);
  const c = view.snapshot().calls[0]!;
  t.false(c.relayed);
  t.deepEqual(
    c.legs.map((l) => [l.station, l.relay]),
    [
      ['door', null],
      ['kitchen', null],
    ],
  );
});

test("a relayed call: leg A's counts on the caller, B's on the callee, kept once ended", (t) => {
  const { view, relay, ev } = setup();
  relay.set('c1', [counts(10), counts(20)]);
  ev('ringing', 'c1', true);
  ev('started', 'c1', true);
  t.deepEqual(
    view.snapshot().calls[0]!.legs.map((l) => [l.station, l.relay]),
    [
      ['door', counts(10)],
      ['kitchen', counts(20)],
    ],
  );
  relay.set('c1', [counts(30), counts(40)]);
  ev('ended', 'c1', true);
  const ended = view.snapshot().recentCalls[0]!;
  t.deepEqual(
    ended.legs.map((l) => l.relay),
    [counts(30), counts(40)],
  );
});

test('[G-3] a direct call moved to the relay shows as relayed, with counts', (t) => {
  const { view, relay, ev } = setup();
  ev('ringing', 'c1', false);
  ev('started', 'c1', false);
  t.false(view.snapshot().calls[0]!.relayed);
  relay.set('c1', [counts(1), counts(2)]);
  const c = view.snapshot().calls[0]!;
  t.true(c.relayed);
  t.deepEqual(c.legs[1]!.relay, counts(2));
});

test('listeners hear of a relayed call every relayRefreshMs while it is up, never after', (t) => {
  const { clock, relay, ev, changes } = setup();
  relay.set('c1', [counts(1), counts(2)]);
  ev('ringing', 'c1', true);
  const ringing = changes();
  clock.advance(5000);
  t.is(changes(), ringing, 'no tick while it only rings');
  ev('started', 'c1', true);
  const started = changes();
  clock.advance(3000);
  t.is(changes(), started + 3);
  ev('ended', 'c1', true);
  const ended = changes();
  clock.advance(5000);
  t.is(changes(), ended, 'the tick stops with the call');
});

test('no tick for a direct call', (t) => {
  const { clock, ev, changes } = setup();
  ev('ringing', 'c1', false);
  ev('started', 'c1', false);
  const before = changes();
  clock.advance(10_000);
  t.is(changes(), before);
});
