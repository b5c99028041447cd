/**
 * [S-10] The door station: every attempt, whatever came of it, is one door event
 * (published) and one info line; the policy decides DTMF; a failing relay is `failed`,
 * never `opened`, and its health is passed on.
 */
import test from 'ava';
import { DoorStation } from '../../device/door.ts';
import type { DoorFrom } from '../../device/door-policy.ts';
import { DoorRelay, FakeOutput } from '../../device/io/outputs.ts';
import type { DoorEventPayload } from '../../protocol/mqtt/door.ts';
import { FakeClock } from '../../shared/clock.ts';
import { captureLog } from './capture-log.ts';

function station(from: DoorFrom, relay: 'ok' | 'broken' | 'none' = 'ok') {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  const health: boolean[] = [];
  const r =
    relay === 'none'
      ? null
      : new DoorRelay(out, clock, { pulseMs: 1000, onHealth: (w) => health.push(w) });
  out.broken = relay === 'broken';
  const published: DoorEventPayload[] = [];
  const { log, records } = captureLog('info');
  const door = new DoorStation({
    relay: r,
    from,
    key: '#',
    log,
    publish: (e) => published.push(e),
  });
  return { door, out, clock, published, records, health, relay: r };
}

const dtmfCases: Array<[string, DoorFrom, string | null, boolean, DoorEventPayload]> = [
  [
    'a call this station placed',
    [],
    'kitchen',
    true,
    { result: 'opened', by: 'dtmf', from: 'kitchen', reason: null },
  ],
  [
    'a caller not listed',
    [],
    'kitchen',
    false,
    { result: 'refused', by: 'dtmf', from: 'kitchen', reason: 'not_allowed' },
  ],
  [
    'a caller listed in door.from',
    ['flat-2', 'kitchen'],
    'kitchen',
    false,
    { result: 'opened', by: 'dtmf', from: 'kitchen', reason: null },
  ],
  [
    'a caller, with door.from another user',
    ['flat-2'],
    'kitchen',
    false,
    { result: 'refused', by: 'dtmf', from: 'kitchen', reason: 'not_allowed' },
  ],
  [
    'any caller with door.from: any',
    'any',
    'stranger',
    false,
    { result: 'opened', by: 'dtmf', from: 'stranger', reason: null },
  ],
  [
    'no call at all',
    'any',
    null,
    false,
    { result: 'refused', by: 'dtmf', from: null, reason: 'no_call' },
  ],
];

for (const [name, from, peer, placedHere, want] of dtmfCases) {
  test(`DTMF door key: ${name} -> ${want.result}`, (t) => {
    const s = station(from);
    t.deepEqual(s.door.dtmf(peer, placedHere), want);
    t.deepEqual(s.published, [want], 'published once');
    t.is(s.out.on, want.result === 'opened', 'the relay pulses only when opened');
    t.true(
      s.records.some((r) => r.level === 30 && r.msg === `door ${want.result}`),
      'logged at info',
    );
  });
}

test('MQTT and button attempts open through the relay; without a relay they are refused', (t) => {
  const s = station([]);
  t.deepEqual(s.door.mqtt(), { result: 'opened', by: 'mqtt', from: null, reason: null });
  s.clock.advance(1000);
  t.deepEqual(s.door.button(), { result: 'opened', by: 'button', from: null, reason: null });
  t.deepEqual(
    s.out.transitions.map((x) => `${x.on ? 'on' : 'off'}@${x.at}`),
    ['on@0', 'off@1000', 'on@1000'],
  );
  const none = station([], 'none');
  t.deepEqual(none.door.mqtt(), { result: 'refused', by: 'mqtt', from: null, reason: 'no_relay' });
  t.is(none.published.length, 1);
});

test('a relay that fails is reported failed, never opened, until a pulse works again', (t) => {
  const s = station([]);
  t.deepEqual(s.health, []);
  s.out.broken = true;
  t.deepEqual(s.door.mqtt(), { result: 'failed', by: 'mqtt', from: null, reason: 'relay_fault' });
  t.deepEqual(s.door.dtmf('kitchen', true), {
    result: 'failed',
    by: 'dtmf',
    from: 'kitchen',
    reason: 'relay_fault',
  });
  t.false(s.relay!.working);
  t.deepEqual(s.health, [false], 'told once that the door is gone');
  t.false(s.published.some((e) => e.result === 'opened'));
  t.true(s.records.some((r) => r.level === 30 && r.msg === 'door failed'));
  s.out.broken = false;
  t.is(s.door.mqtt().result, 'opened');
  t.true(s.relay!.working);
  t.deepEqual(s.health, [false, true]);
});

test('a relay that cannot be driven at start is not working from the start', (t) => {
  const clock = new FakeClock();
  const out = new FakeOutput(clock);
  out.broken = true;
  const relay = new DoorRelay(out, clock);
  t.false(relay.working);
  t.is(relay.pulse(), 'failed');
});
