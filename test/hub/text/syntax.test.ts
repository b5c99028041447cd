/**
 * The text dialect's request syntax, in process [T-2, T-3, T-5], and the `400` answers
 * for what the table does not know.
 */
import test from 'ava';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

/** Runs `body` against a fresh hub and stops the hub whatever happens. */
async function withHub(body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub();
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** [T-3] A reply or event: a 3-digit code, then bare space-separated arguments. */
const REPLY_LINE = /^[0-9]{3}(?: [^\s]+)*$/;

const notations: Array<[string, string]> = [
  ['bare', 'alice'],
  ["seed list ['alice']", "['alice']"],
  ['double-quoted "alice"', '"alice"'],
  ["single-quoted 'alice'", "'alice'"],
  ['seed list with spaces', "[ 'alice' ]"],
];

for (const [label, arg] of notations) {
  test(`[T-2] notation ${label} means alice in NEW, CONNECT and CALL`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(`NEW ${arg}`), '108 alice');
      t.regex((await c.request(`CONNECT ${arg}`)) ?? '', /^101 \S+ alice$/);
      t.is(await c.request(`CALL ${arg}`), '404 alice self');
      t.is(await c.request(`CALLED ${arg}`), '404 alice no_call');
      t.is(await c.request(`HANGUP ${arg}`), '404 alice no_call');
      t.is(await c.request(`ACCEPT ${arg}`), '404 alice no_call');
      c.close();
    });
  });
}

test("[T-2] the seed's notation carries several arguments: CONNECT ['alice', '0']", async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request("NEW ['alice']"), '108 alice');
    t.regex((await c.request("CONNECT ['alice', '0']")) ?? '', /^101 \S+ alice$/);
    t.is(await c.request('OUT []'), '102');
    t.is(await c.next(), null);
  });
});

for (const verb of ['ping', 'Ping', 'pInG', 'PING']) {
  test(`[T-2] verbs are case-insensitive: ${verb}`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(`${verb} x`), '109 x');
      c.close();
    });
  });
}

test('[T-2] lowercase verbs work through a whole session', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('new alice'), '108 alice');
    t.regex((await c.request('connect alice 5004')) ?? '', /^101 \S+ alice$/);
    t.is(await c.request('users'), '103 alice:idle');
    t.is(await c.request('out'), '102');
    t.is(await c.next(), null);
  });
});

test('[T-2] arguments may be separated by several spaces or tabs', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW   alice'), '108 alice');
    t.regex((await c.request('CONNECT\talice \t 5004')) ?? '', /^101 \S+ alice$/);
    c.close();
  });
});

test('[T-3] every line the hub writes is a 3-digit code and bare arguments', async (t) => {
  await withHub(async ({ hub }) => {
    const a = await TextClient.connect(hub.text);
    const b = await connectedClient(hub.text, 'bob', 6006);
    const lines: string[] = [];
    const ask = async (line: string) => {
      const reply = await a.request(line);
      lines.push(reply ?? '<closed>');
    };
    for (const req of [
      "NEW ['alice']",
      'NEW "alice"',
      'NEW "a b"',
      "CONNECT ['alice', '5004']",
      'USERS',
      'CALL bob',
      'CALLED bob',
      'PING',
      'PING "x y"',
      'FROB',
      '"odd',
      'CALL',
    ]) {
      await ask(req);
    }
    lines.push((await b.next()) ?? '<closed>'); // 105 alice
    lines.push((await b.request('ACCEPT alice')) ?? '<closed>');
    lines.push((await a.next()) ?? '<closed>'); // 106 bob ...
    await ask('HANGUP bob');
    lines.push((await b.next()) ?? '<closed>');
    await ask('OUT');
    t.is(lines.length, 18);
    for (const line of lines) t.regex(line, REPLY_LINE);
    a.close();
    b.close();
  });
});

test('[T-5] before CONNECT, every verb but NEW, CONNECT, OUT and PING gets 401 not_connected', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW alice'), '108 alice');
    for (const req of ['USERS', 'CALL alice', 'ACCEPT alice', 'HANGUP alice', 'CALLED alice']) {
      t.is(await c.request(req), '401 not_connected', req);
    }
    for (const req of ['users', 'call bob']) t.is(await c.request(req), '401 not_connected', req);
    t.is(await c.request('PING'), '109');
    t.false(c.closed);
    t.regex((await c.request('CONNECT alice')) ?? '', /^101 \S+ alice$/);
    t.is(await c.request('USERS'), '103 alice:idle');
    c.close();
  });
});

test('[T-5] OUT before CONNECT answers 102 and closes', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('OUT'), '102');
    t.is(await c.next(), null);
  });
});

test('[T-5] a failed CONNECT leaves the connection unconnected', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('CONNECT ghost'), '401 ghost unknown');
    t.is(await c.request('USERS'), '401 not_connected');
    c.close();
  });
});

const unknownCommands: Array<[string, string]> = [
  ['FROB', '400 unknown_command FROB'],
  ['frob alice', '400 unknown_command FROB'],
  ['HELLO world and more', '400 unknown_command HELLO'],
  ['105 alice', '400 unknown_command 105'],
  ['FROB "unterminated', '400 unknown_command FROB'],
  [`X${'Y'.repeat(100)}`, '400 unknown_command -'],
  ['"quoted verb"', '400 unknown_command -'],
  ["['CONNECT']", '400 unknown_command -'],
];

for (const [req, reply] of unknownCommands) {
  test(`[T-5 table] ${JSON.stringify(req)} gets ${reply}`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.text);
      t.is(await c.request(req), reply);
      t.is(await c.request('PING ok'), '109 ok');
      c.close();
    });
  });
}

const badArguments: Array<[string, string, boolean]> = [
  // [request, reply, needs CONNECT first]
  ['NEW', '400 bad_arguments NEW', false],
  ['NEW a b c', '400 bad_arguments NEW', false],
  ['CONNECT', '400 bad_arguments CONNECT', false],
  ['CONNECT a 1 s extra', '400 bad_arguments CONNECT', false],
  ['CONNECT alice port', '400 bad_arguments CONNECT', false],
  ['CONNECT alice 65536', '400 bad_arguments CONNECT', false],
  ['CONNECT alice -1', '400 bad_arguments CONNECT', false],
  ['OUT now', '400 bad_arguments OUT', false],
  ['PING a b', '400 bad_arguments PING', false],
  ['NEW "unterminated', '400 bad_arguments NEW', false],
  ["NEW ['alice'", '400 bad_arguments NEW', false],
  ['NEW ""', '400 bad_arguments NEW', false],
  ['NEW "a"b', '400 bad_arguments NEW', false],
  ['USERS all', '400 bad_arguments USERS', true],
  ['CALL', '400 bad_arguments CALL', true],
  ['CALL bob carol', '400 bad_arguments CALL', true],
  ['ACCEPT', '400 bad_arguments ACCEPT', true],
  ['HANGUP', '400 bad_arguments HANGUP', true],
  ['CALLED', '400 bad_arguments CALLED', true],
  ['call', '400 bad_arguments CALL', true],
];

for (const [req, reply, connect] of badArguments) {
  test(`[T-5 table] ${JSON.stringify(req)} gets ${reply}`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = connect
        ? await connectedClient(hub.text, 'alice')
        : await TextClient.connect(hub.text);
      t.is(await c.request(req), reply);
      t.is(await c.request('PING ok'), '109 ok');
      c.close();
    });
  });
}

test('[T-5 table] PING without a token answers 109, with one echoes it', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('PING'), '109');
    t.is(await c.request('PING 42'), '109 42');
    t.is(await c.request("PING ['tok']"), '109 tok');
    const long = 'z'.repeat(500);
    t.is(await c.request(`PING ${long}`), `109 ${long}`);
    c.close();
  });
});
