/**
 * Calls in the text dialect, in process, as transcripts: `CALL`, `ACCEPT`, `HANGUP`,
 * `CALLED`, every `107` reason [T-10] and every `404` failure. Each row of the table is
 * played by one loop, over plaintext and over TLS [S-1]; media addresses [T-9, M-4] are in
 * media.test.ts.
 */
import test from 'ava';
import { startHubInProcess, TRANSPORTS } from '../../helpers/in-process-hub.ts';
import { ANSWER, play, RING, type Transcript } from '../../helpers/transcript.ts';

const ALICE_BOB = [
  ['alice', 5004],
  ['bob', 6006],
] as const;
const WITH_CAROL = [...ALICE_BOB, ['carol', 7007]] as const;

/** [T-10] disconnected: one party's connection is lost while ringing or in a call. */
function disconnected(who: 'callee' | 'caller', phase: 'ringing' | 'in a call'): Transcript {
  const [gone, left] = who === 'callee' ? ['bob', 'alice'] : ['alice', 'bob'];
  const users = who === 'callee' ? '103 alice:idle bob:offline' : '103 alice:offline bob:idle';
  return {
    name: `[T-10] disconnected: the ${who}'s connection is lost ${phase}`,
    users: ALICE_BOB,
    steps: [
      ...RING,
      ...(phase === 'in a call' ? ANSWER : []),
      { close: gone },
      [left, null, `107 ${gone} disconnected`],
      [left, 'USERS', users],
    ],
  };
}

const transcripts: Transcript[] = [
  // --- CALL, ACCEPT, HANGUP, CALLED: the happy path ---------------------------------------
  {
    name: '[T-5 table] CALL: 104 to the caller, 105 to the callee; ACCEPT: 106 to both',
    users: ALICE_BOB,
    steps: [
      ...RING,
      ['bob', 'CALLED alice', '105 alice'],
      ...ANSWER,
      ['alice', 'USERS', '103 alice:in_call bob:in_call'],
    ],
  },
  {
    name: "[T-2, T-4] CALL, ACCEPT and HANGUP take any notation and case of the peer's name",
    users: ALICE_BOB,
    steps: [
      ['alice', "call ['BOB']", '104 bob'],
      ['bob', null, '105 alice'],
      ['bob', 'called "Alice"', '105 alice'],
      ['bob', 'accept ALICE', '106 alice 127.0.0.1 5004'],
      ['alice', null, '106 bob 127.0.0.1 6006'],
      ['alice', "hangup ['Bob']", '107 bob ended'],
      ['bob', null, '107 alice ended'],
    ],
  },

  // --- T-10: every 107 reason ---------------------------------------------------------------
  {
    name: '[T-10] ended: HANGUP in a call, by the caller',
    users: ALICE_BOB,
    steps: [
      ...RING,
      ...ANSWER,
      ['alice', 'HANGUP bob', '107 bob ended'],
      ['bob', null, '107 alice ended'],
      ['bob', 'USERS', '103 alice:idle bob:idle'],
    ],
  },
  {
    name: '[T-10] ended: HANGUP in a call, by the callee',
    users: ALICE_BOB,
    steps: [
      ...RING,
      ...ANSWER,
      ['bob', 'HANGUP alice', '107 alice ended'],
      ['alice', null, '107 bob ended'],
    ],
  },
  {
    name: '[T-10] declined: the callee hangs up while ringing',
    users: ALICE_BOB,
    steps: [
      ...RING,
      ['bob', 'HANGUP alice', '107 alice declined'],
      ['alice', null, '107 bob declined'],
      ['bob', 'ACCEPT alice', '404 alice no_call'],
      ['alice', 'USERS', '103 alice:idle bob:idle'],
    ],
  },
  {
    name: '[T-10] cancelled: the caller hangs up while ringing',
    users: ALICE_BOB,
    steps: [
      ...RING,
      ['alice', 'HANGUP bob', '107 bob cancelled'],
      ['bob', null, '107 alice cancelled'],
      ['bob', 'CALLED alice', '404 alice no_call'],
      ['bob', 'ACCEPT alice', '404 alice no_call'],
    ],
  },
  {
    name: '[T-10] timeout: nobody answers within the ring timeout (--ring-timeout 1)',
    argv: ['--ring-timeout', '1'],
    users: ALICE_BOB,
    steps: [
      ...RING,
      { advance: 999 },
      { quiet: 'alice', ms: 50 },
      { advance: 1 },
      ['alice', null, '107 bob timeout'],
      ['bob', null, '107 alice timeout'],
      ['bob', 'ACCEPT alice', '404 alice no_call'],
      ['alice', 'USERS', '103 alice:idle bob:idle'],
      // Both may call again at once.
      ['bob', 'CALL alice', '104 alice'],
      ['alice', null, '105 bob'],
    ],
  },
  {
    name: '[T-10] an answered call does not time out',
    argv: ['--ring-timeout', '1'],
    users: ALICE_BOB,
    steps: [
      ...RING,
      ...ANSWER,
      // Past the ring timeout, nothing arrives and the call is still up.
      { advance: 1500 },
      { quiet: 'alice', ms: 150 },
      ['alice', 'USERS', '103 alice:in_call bob:in_call'],
    ],
  },
  disconnected('callee', 'ringing'),
  disconnected('caller', 'ringing'),
  disconnected('callee', 'in a call'),
  disconnected('caller', 'in a call'),

  // --- 404 failures --------------------------------------------------------------------------
  {
    name: '[T-5 table] CALL failures: unknown, invalid, offline, self',
    users: [['alice', 5004]],
    steps: [
      ['alice', 'NEW dave', '108 dave'],
      ['alice', 'CALL nobody', '404 nobody unknown'],
      ['alice', 'CALL NoBody', '404 nobody unknown'],
      ['alice', 'CALL -bad', '404 -bad unknown'],
      ['alice', 'CALL "two words"', '404 - unknown'],
      ['alice', `CALL ${'q'.repeat(40)}`, `404 ${'q'.repeat(40)} unknown`],
      ['alice', 'CALL dave', '404 dave offline'],
      ['alice', 'CALL alice', '404 alice self'],
      ['alice', 'CALL ALICE', '404 alice self'],
      ['alice', 'USERS', '103 alice:idle dave:offline'],
    ],
  },
  {
    name: '[T-5 table] CALL of a ringing callee gets busy; of anyone while ringing out, in_call',
    users: WITH_CAROL,
    steps: [
      ...RING,
      ['carol', 'CALL bob', '404 bob busy'], // bob is ringing
      ['carol', 'CALL alice', '404 alice busy'], // alice is calling
      ['alice', 'CALL carol', '404 carol in_call'], // alice is calling
      ['alice', 'CALL bob', '404 bob in_call'],
      ['bob', 'CALL carol', '404 carol in_call'], // bob is ringing
      ['alice', 'CALL alice', '404 alice self'],
      // Nobody else heard anything, and the first call is intact.
      { quiet: 'carol', ms: 100 },
      ['bob', 'CALLED alice', '105 alice'],
    ],
  },
  {
    name: '[T-5 table] CALL of a user in a call gets busy; from a user in a call, in_call',
    users: WITH_CAROL,
    steps: [
      ...RING,
      ...ANSWER,
      ['carol', 'CALL alice', '404 alice busy'],
      ['carol', 'CALL bob', '404 bob busy'],
      ['bob', 'CALL carol', '404 carol in_call'],
      { quiet: 'carol', ms: 100 },
      ['carol', 'USERS', '103 alice:in_call bob:in_call carol:idle'],
    ],
  },
  {
    name: '[T-5 table] ACCEPT without a call ringing from that caller gets 404 <caller> no_call',
    users: WITH_CAROL,
    steps: [
      ['bob', 'ACCEPT alice', '404 alice no_call'], // nothing rings
      ['bob', 'ACCEPT ghost', '404 ghost no_call'], // unknown name
      ['bob', 'ACCEPT -x', '404 -x no_call'], // invalid name, echoed
      ['bob', 'ACCEPT "a b"', '404 - no_call'], // cannot be echoed
      ...RING,
      ['bob', 'ACCEPT carol', '404 carol no_call'], // another caller
      ['alice', 'ACCEPT bob', '404 bob no_call'], // the caller cannot accept
      ['carol', 'ACCEPT alice', '404 alice no_call'], // not rung here
      ...ANSWER,
      ['bob', 'ACCEPT alice', '404 alice no_call'], // already answered
    ],
  },
  {
    name: '[T-5 table] HANGUP without a call with that peer gets 404 <peer> no_call',
    users: WITH_CAROL,
    steps: [
      ['alice', 'HANGUP bob', '404 bob no_call'],
      ['alice', 'HANGUP ghost', '404 ghost no_call'],
      ['alice', 'HANGUP "a b"', '404 - no_call'],
      ...RING,
      ['alice', 'HANGUP carol', '404 carol no_call'],
      ['carol', 'HANGUP alice', '404 alice no_call'],
      ['alice', 'HANGUP alice', '404 alice no_call'],
      // None of that touched the call.
      ['bob', 'CALLED alice', '105 alice'],
      ['alice', 'HANGUP bob', '107 bob cancelled'],
      ['bob', null, '107 alice cancelled'],
      ['alice', 'HANGUP bob', '404 bob no_call'],
    ],
  },
  {
    name: 'DND on makes calls fail busy; off lets them ring (extension)',
    users: ALICE_BOB,
    steps: [
      ['bob', 'DND on', '110 on'],
      ['alice', 'CALL bob', '404 bob busy'],
      ['bob', 'DND maybe', '400 bad_arguments DND'],
      ['bob', 'DND off', '110 off'],
      ...RING,
    ],
  },
  {
    name: '[T-5 table] CALLED answers 105 <caller> only while that call rings here',
    users: ALICE_BOB,
    steps: [
      ['bob', 'CALLED alice', '404 alice no_call'],
      ...RING,
      ['bob', 'CALLED alice', '105 alice'],
      ['bob', 'CALLED ALICE', '105 alice'],
      ['bob', 'CALLED carol', '404 carol no_call'],
      ['bob', 'CALLED "x y"', '404 - no_call'],
      ['alice', 'CALLED bob', '404 bob no_call'], // the caller side
      ...ANSWER,
      ['bob', 'CALLED alice', '404 alice no_call'], // answered: no longer rings
    ],
  },
];

// [S-1] One table, both transports: over TLS every line is the same, `106` plus keys [S-4].
for (const transport of TRANSPORTS) {
  for (const script of transcripts) {
    test(`${transport}: ${script.name}`, async (t) => {
      const h = await startHubInProcess([...(script.argv ?? [])]);
      try {
        await play(t, h.hub.dialer('text', transport), h.clock, script);
      } finally {
        await h.stop();
      }
    });
  }
}
