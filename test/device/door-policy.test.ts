import test from 'ava';
import { type DtmfDoorContext, dtmfDoorVerdict } from '../../device/door-policy.ts';

const table: Array<[string, DtmfDoorContext, ReturnType<typeof dtmfDoorVerdict>]> = [
  [
    'the flat the door called may open it',
    { from: [], peer: 'flat1', placedHere: true },
    { allowed: true },
  ],
  [
    'a caller the station did not call may not',
    { from: [], peer: 'stranger', placedHere: false },
    { allowed: false, reason: 'not_allowed' },
  ],
  [
    'a caller listed in door.from may',
    { from: ['concierge'], peer: 'concierge', placedHere: false },
    { allowed: true },
  ],
  [
    'a caller not in the list may not',
    { from: ['concierge'], peer: 'flat2', placedHere: false },
    { allowed: false, reason: 'not_allowed' },
  ],
  [
    'door.from: any lets any peer in a call',
    { from: 'any', peer: 'stranger', placedHere: false },
    { allowed: true },
  ],
  [
    'no call, no door, whatever the list',
    { from: 'any', peer: null, placedHere: false },
    { allowed: false, reason: 'no_call' },
  ],
];

for (const [name, ctx, verdict] of table) {
  test(`[S-10] ${name}`, (t) => {
    t.deepEqual(dtmfDoorVerdict(ctx), verdict);
  });
}
