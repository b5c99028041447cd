/**
 * Accounts and sessions in the text dialect, in process: `NEW`, `CONNECT`, `OUT`, names
 * [T-4], user ids [T-6] and takeover [T-8].
 */
import test from 'ava';
import { tempDir } from '../../helpers/hub.ts';
import { untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function withHub(
  body: (h: TestHub) => Promise<void>,
  limits: Parameters<typeof startHub>[1] = {},
): Promise<void> {
  const h = await startHub([], limits);
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** Bound on replies that wait for scrypt (secrets), generous for a loaded machine. */
const SLOW = 15_000;

/** [T-6] An RFC 4122 UUID: version 1-8 in the third group, variant 10xx in the fourth. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The uuid of a `101 <uuid> <name>` line, checking the name. */
function uuidOf(line: string | null, name: string): string {
  const m = /^101 (\S+) (\S+)$/.exec(line ?? '');
  if (!m || m[2] !== name) throw new Error(`not a 101 for ${name}: ${line}`);
  return m[1]!;
}

test('[T-5 table] NEW answers 108 <name>; a second NEW of the name gets 408 <name> exists', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW alice'), '108 alice');
    t.is(await c.request('NEW alice'), '408 alice exists');
    const other = await TextClient.connect(hub.text);
    t.is(await other.request('NEW alice'), '408 alice exists');
    t.is(await other.request('NEW bob'), '108 bob');
    c.close();
    other.close();
  });
});

test('[T-4] names are lowercased on receipt in NEW, CONNECT and the replies', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW Alice'), '108 alice');
    t.is(await c.request('NEW ALICE'), '408 alice exists');
    uuidOf(await c.request('CONNECT aLiCe'), 'alice');
    t.is(await c.request('USERS'), '103 alice:idle');
    c.close();
  });
});

const validNames = ['a', '7', 'a.b_c-d', 'x'.repeat(32), '0-0', 'bob.'];

for (const name of validNames) {
  test(`[T-4] ${JSON.stringify(name)} is a valid name`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(`NEW ${name}`), `108 ${name}`);
      uuidOf(await c.request(`CONNECT ${name}`), name);
      c.close();
    });
  });
}

/** [T-4] Invalid names, as sent, and as echoed: lowercased, or `-` if not one bare token. */
const invalidNames: Array<[string, string]> = [
  ['-alice', '-alice'],
  ['.alice', '.alice'],
  ['_Alice', '_alice'],
  ['al!ce', 'al!ce'],
  ['a/b', 'a/b'],
  ['AL:ICE', 'al:ice'],
  ['x'.repeat(33), 'x'.repeat(33)],
  ['"a b"', '-'],
  ['"\'quoted"', '-'],
  ['y'.repeat(100), '-'],
  ['zoë', 'zoë'],
  ['ZOË', 'zoË'],
  // The Kelvin sign lowercases to an ASCII `k` in Unicode; the hub folds ASCII only [T-4].
  ['\u212A', '\u212A'],
];

for (const [sent, echoed] of invalidNames) {
  test(`[T-4] NEW ${JSON.stringify(sent)} gets 408 ${echoed} invalid`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(`NEW ${sent}`), `408 ${echoed} invalid`);
      t.false(c.closed);
      c.close();
    });
  });

  test(`[T-4] CONNECT ${JSON.stringify(sent)} gets 401 ${echoed} invalid`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(`CONNECT ${sent}`), `401 ${echoed} invalid`);
      t.is(await c.request('USERS'), '401 not_connected');
      c.close();
    });
  });
}

test('[T-5 table] with registration closed, NEW gets 408 <name> forbidden', async (t) => {
  await withHub(
    async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request('NEW Alice'), '408 alice forbidden');
      t.is(await c.request('CONNECT alice'), '401 alice unknown');
      t.is(hub.accounts.listUsers().length, 0);
      c.close();
    },
    { registration: 'closed' },
  );
});

test('[T-5 table] CONNECT of an unknown name gets 401 <name> unknown', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('CONNECT Ghost'), '401 ghost unknown');
    t.is(await c.request('CONNECT ghost 5004 secret'), '401 ghost unknown');
    c.close();
  });
});

test('[T-5 table] a user with a secret needs it: missing or wrong gets 401 <name> bad_secret', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW alice s3cret', SLOW), '108 alice');
    t.is(await c.request('CONNECT alice', SLOW), '401 alice bad_secret');
    t.is(await c.request('CONNECT alice 5004', SLOW), '401 alice bad_secret');
    t.is(await c.request('CONNECT alice 5004 wrong', SLOW), '401 alice bad_secret');
    t.is(await c.request('CONNECT alice 5004 S3CRET', SLOW), '401 alice bad_secret');
    t.is(await c.request('USERS', SLOW), '401 not_connected');
    uuidOf(await c.request('CONNECT alice 5004 s3cret', SLOW), 'alice');
    t.is(await c.request('USERS', SLOW), '103 alice:idle');
    c.close();
  });
});

test("[T-5 table] the seed's notation carries the secret: CONNECT ['alice', '0', 's3cret']", async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request("NEW ['alice', 's3cret']", SLOW), '108 alice');
    uuidOf(await c.request("CONNECT ['alice', '0', 's3cret']", SLOW), 'alice');
    c.close();
  });
});

test('[T-5 table] a user without a secret connects with any or none', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW alice'), '108 alice');
    uuidOf(await c.request('CONNECT alice 0 whatever'), 'alice');
    c.close();
  });
});

test('[T-5 table] CONNECT on an already-connected connection gets 401 <name> already_connected', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await connectedClient(hub.text, 'alice');
    const bob = await connectedClient(hub.text, 'bob');
    t.is(await c.request('CONNECT alice'), '401 alice already_connected');
    t.is(await c.request('CONNECT Bob'), '401 bob already_connected');
    t.is(await c.request('CONNECT nobody'), '401 nobody already_connected');
    // Still alice, and bob was not taken over.
    t.is(await c.request('USERS'), '103 alice:idle bob:idle');
    t.is(await bob.request('PING'), '109');
    c.close();
    bob.close();
  });
});

test('[T-5 table] NEW works on a connected connection and does not change who it is', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await connectedClient(hub.text, 'alice');
    t.is(await c.request('NEW bob'), '108 bob');
    t.is(await c.request('USERS'), '103 alice:idle bob:offline');
    t.is(await c.request('CALL bob'), '404 bob offline');
    c.close();
  });
});

test('[T-6] the uuid is an RFC 4122 UUID, fixed when the user is created', async (t) => {
  const dataDir = tempDir();
  let first: string;
  let bobId: string;
  {
    const h = await startHub([], {}, dataDir);
    try {
      const c = await TextClient.connect(h.hub.text);
      t.is(await c.request('NEW alice'), '108 alice');
      t.is(await c.request('NEW bob'), '108 bob');
      first = uuidOf(await c.request('CONNECT alice'), 'alice');
      t.regex(first, UUID);
      c.close();
      const again = await TextClient.connect(h.hub.text);
      t.is(uuidOf(await again.request('CONNECT ALICE'), 'alice'), first);
      const b = await TextClient.connect(h.hub.text);
      bobId = uuidOf(await b.request('CONNECT bob'), 'bob');
      t.regex(bobId, UUID);
      t.not(bobId, first);
      again.close();
      b.close();
    } finally {
      await h.stop();
    }
  }
  // A restarted hub on the same data gives the same ids.
  const h = await startHub([], {}, dataDir);
  try {
    const c = await TextClient.connect(h.hub.text);
    t.is(uuidOf(await c.request('CONNECT alice'), 'alice'), first);
    const b = await TextClient.connect(h.hub.text);
    t.is(uuidOf(await b.request('CONNECT bob'), 'bob'), bobId);
    c.close();
    b.close();
  } finally {
    await h.stop();
  }
});

test('[T-5 table] OUT answers 102, then the hub closes and the user is offline', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice');
    const bob = await connectedClient(hub.text, 'bob');
    t.is(await bob.request('USERS'), '103 alice:idle bob:idle');
    t.is(await alice.request('OUT'), '102');
    t.is(await alice.next(), null);
    t.is(await bob.request('USERS'), '103 alice:offline bob:idle');
    bob.close();
  });
});

test('[T-5 table] requests pipelined after OUT are not answered', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice');
    alice.writeRaw('OUT\r\nPING a\r\nUSERS\r\n');
    t.is(await alice.next(), '102');
    t.is(await alice.next(), null);
  });
});

test('[T-5 table, T-10] OUT in a call: the peer hears 107 <sender> disconnected', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request('OUT'), '102');
    t.is(await alice.next(), null);
    t.is(await bob.next(), '107 alice disconnected');
    t.is(await bob.request('USERS'), '103 alice:offline bob:idle');
    bob.close();
  });
});

test('[T-5 table, T-10] OUT while ringing: the callee hears 107 <caller> disconnected', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await alice.request('OUT'), '102');
    t.is(await bob.next(), '107 alice disconnected');
    t.is(await bob.request('CALLED alice'), '404 alice no_call');
    bob.close();
  });
});

test('[T-8] CONNECT of a name online elsewhere takes it over: the old connection is closed', async (t) => {
  await withHub(async ({ hub }) => {
    const old = await TextClient.connect(hub.text);
    t.is(await old.request('NEW alice'), '108 alice');
    const id = uuidOf(await old.request('CONNECT alice 5004'), 'alice');
    const fresh = await TextClient.connect(hub.text);
    t.is(uuidOf(await fresh.request('CONNECT alice 5006'), 'alice'), id);
    t.is(await old.next(), null);
    t.is(await fresh.request('USERS'), '103 alice:idle');
    // The new connection is the user now: a call reaches it, with its new media port.
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await bob.request('CALL alice'), '104 alice');
    t.is(await fresh.next(), '105 bob');
    t.is(await fresh.request('ACCEPT bob'), '106 bob 127.0.0.1 6006');
    t.is(await bob.next(), '106 alice 127.0.0.1 5006');
    fresh.close();
    bob.close();
  });
});

test('[T-8] a half-open session that never reads does not lock its user out', async (t) => {
  await withHub(async ({ hub }) => {
    const old = await TextClient.connect(hub.text);
    t.is(await old.request('NEW alice pw', SLOW), '108 alice');
    uuidOf(await old.request('CONNECT alice 5004 pw', SLOW), 'alice');
    old.socket.pause(); // the device lost its network: nothing it is sent is read
    const fresh = await TextClient.connect(hub.text);
    uuidOf(await fresh.request('CONNECT alice 5004 pw', SLOW), 'alice');
    t.is(await fresh.request('USERS', SLOW), '103 alice:idle');
    old.socket.resume(); // the network is back: the old session has been closed
    t.is(await old.next(), null);
    fresh.close();
  });
});

test('[T-8] takeover needs the secret: a wrong one leaves the online session alone', async (t) => {
  await withHub(async ({ hub }) => {
    const owner = await TextClient.connect(hub.text);
    t.is(await owner.request('NEW alice pw', SLOW), '108 alice');
    uuidOf(await owner.request('CONNECT alice 0 pw', SLOW), 'alice');
    const thief = await TextClient.connect(hub.text);
    t.is(await thief.request('CONNECT alice 0 guess', SLOW), '401 alice bad_secret');
    t.is(await thief.request('CONNECT alice', SLOW), '401 alice bad_secret');
    t.is(await owner.request('PING still-here', SLOW), '109 still-here');
    t.false(owner.closed);
    owner.close();
    thief.close();
  });
});

test('[T-8, T-10] takeover during a call ends it: the peer hears 107 <name> disconnected', async (t) => {
  await withHub(async ({ hub }) => {
    const old = await connectedClient(hub.text, 'alice', 5004);
    const bob = await connectedClient(hub.text, 'bob', 6006);
    t.is(await old.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await old.next(), '106 bob 127.0.0.1 6006');
    const fresh = await TextClient.connect(hub.text);
    uuidOf(await fresh.request('CONNECT alice 5004'), 'alice');
    t.is(await bob.next(), '107 alice disconnected');
    t.is(await old.next(), null);
    t.is(await fresh.request('USERS'), '103 alice:idle bob:idle');
    t.is(await fresh.request('HANGUP bob'), '404 bob no_call');
    fresh.close();
    bob.close();
  });
});

test('[T-8, T-10] takeover of a ringing callee ends the call for the caller', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice', 5004);
    const old = await connectedClient(hub.text, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await old.next(), '105 alice');
    const fresh = await TextClient.connect(hub.text);
    uuidOf(await fresh.request('CONNECT bob 6006'), 'bob');
    t.is(await alice.next(), '107 bob disconnected');
    t.is(await old.next(), null);
    t.is(await fresh.request('CALLED alice'), '404 alice no_call');
    alice.close();
    fresh.close();
  });
});

test('[T-8] a closed connection leaves its user offline; CONNECT again brings it back', async (t) => {
  await withHub(async ({ hub }) => {
    const alice = await connectedClient(hub.text, 'alice');
    const bob = await connectedClient(hub.text, 'bob');
    alice.close();
    // Bounded wait for the hub to see the close.
    await within(untilState(hub.core, hub.accounts.getByName('alice')!.id, 'offline'), 2000);
    t.is(await bob.request('USERS'), '103 alice:offline bob:idle');
    const back = await TextClient.connect(hub.text);
    uuidOf(await back.request('CONNECT alice'), 'alice');
    t.is(await bob.request('USERS'), '103 alice:idle bob:idle');
    back.close();
    bob.close();
  });
});
