/**
 * The text dialect's framing and request syntax over real TCP [T-1, T-2, T-3, T-5], and
 * the `400` answers for what the table does not know.
 */
import test from 'ava';
import { startHub, type TestHub } from '../../helpers/hub.ts';
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

/** A request of exactly `bytes` bytes, terminator included: `PING tok`, padded with spaces. */
function pingOfSize(bytes: number, terminator: '\r\n' | '\n'): Buffer {
  const head = 'PING tok';
  const line = Buffer.from(head + ' '.repeat(bytes - head.length - terminator.length) + terminator);
  if (line.length !== bytes) throw new Error('bad fixture');
  return line;
}

test('[T-1] a line of exactly 1024 bytes including CRLF is accepted', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(pingOfSize(1024, '\r\n'));
    t.is(await c.next(), '109 tok');
    t.is(await c.request('PING after'), '109 after');
    c.close();
  });
});

test('[T-1] a line of exactly 1024 bytes ending in a bare LF is accepted', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(pingOfSize(1024, '\n'));
    t.is(await c.next(), '109 tok');
    c.close();
  });
});

test('[T-1] a line of 1025 bytes including CRLF gets 400 line_too_long, then the hub closes', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(pingOfSize(1025, '\r\n'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
    t.true(c.closed);
  });
});

test('[T-1] a line of 1025 bytes ending in a bare LF gets 400 line_too_long', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(pingOfSize(1025, '\n'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] an overlong line is refused before its terminator arrives', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(Buffer.alloc(4096, 'x'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] an overlong line sent a byte at a time over many writes is still refused', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw('PING ');
    for (let i = 0; i < 20; i++) c.writeRaw(Buffer.alloc(60, 'y'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] requests before an overlong line in the same write are answered first', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(Buffer.concat([Buffer.from('PING one\r\nPING two\r\n'), pingOfSize(1025, '\r\n')]));
    t.is(await c.next(), '109 one');
    t.is(await c.next(), '109 two');
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] a bare LF ends a line like CRLF', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw('NEW alice\nCONNECT alice\nUSERS\n');
    t.is(await c.next(), '108 alice');
    t.regex((await c.next()) ?? '', /^101 \S+ alice$/);
    t.is(await c.next(), '103 alice:idle');
    c.close();
  });
});

test('[T-1] a request split across writes at every offset is read as one line', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    const line = Buffer.from('PING split\r\n');
    for (let at = 1; at < line.length; at++) {
      c.writeRaw(line.subarray(0, at));
      // The hub must not answer half a line.
      t.true(await c.quiet(20), `answered half a line split at ${at}`);
      c.writeRaw(line.subarray(at));
      t.is(await c.next(), '109 split', `split at ${at}`);
    }
    c.close();
  });
});

const badUtf8: Array<[string, number[]]> = [
  ['0xFF', [0xff]],
  ['lone continuation byte', [0x80]],
  ['overlong encoding of /', [0xc0, 0xaf]],
  ['encoded surrogate', [0xed, 0xa0, 0x80]],
  ['truncated sequence', [0xe2, 0x82]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
];

for (const [label, bytes] of badUtf8) {
  test(`[T-1] invalid UTF-8 (${label}) gets 400 bad_encoding and the connection stays`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.textPort);
      c.writeRaw(Buffer.concat([Buffer.from('NEW '), Buffer.from(bytes), Buffer.from('\r\n')]));
      t.is(await c.next(), '400 bad_encoding');
      t.is(await c.request('PING still'), '109 still');
      t.false(c.closed);
      c.close();
    });
  });
}

test('[T-1] a bad_encoding answer keeps its place among pipelined replies', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw(
      Buffer.concat([
        Buffer.from('PING a\r\n'),
        Buffer.from([0xff, 0x0d, 0x0a]),
        Buffer.from('PING b\r\n'),
      ]),
    );
    t.is(await c.next(), '109 a');
    t.is(await c.next(), '400 bad_encoding');
    t.is(await c.next(), '109 b');
    c.close();
  });
});

test('[T-1] a bad_encoding answer waits for a slow request before it', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    // NEW with a secret hashes it (scrypt), so its reply is asynchronous.
    c.writeRaw(Buffer.concat([Buffer.from('NEW alice s3cret\r\n'), Buffer.from([0xff, 0x0a])]));
    t.is(await c.next(15_000), '108 alice');
    t.is(await c.next(), '400 bad_encoding');
    c.close();
  });
});

test('[T-1] UTF-8 is decoded: a non-ASCII name is refused as invalid, not as bad_encoding', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request('NEW zoë'), '408 zoë invalid');
    c.close();
  });
});

test('[T-1] empty lines are ignored', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.writeRaw('\r\n\n   \r\nPING x\r\n');
    t.is(await c.next(), '109 x');
    t.true(await c.quiet(50));
    c.close();
  });
});

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
      const c = await TextClient.connect(hub.textPort);
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
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request("NEW ['alice']"), '108 alice');
    t.regex((await c.request("CONNECT ['alice', '0']")) ?? '', /^101 \S+ alice$/);
    t.is(await c.request('OUT []'), '102');
    t.is(await c.next(), null);
  });
});

for (const verb of ['ping', 'Ping', 'pInG', 'PING']) {
  test(`[T-2] verbs are case-insensitive: ${verb}`, async (t) => {
    await withHub(async ({ hub }) => {
      const c = await TextClient.connect(hub.textPort);
      t.is(await c.request(`${verb} x`), '109 x');
      c.close();
    });
  });
}

test('[T-2] lowercase verbs work through a whole session', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request('new alice'), '108 alice');
    t.regex((await c.request('connect alice 5004')) ?? '', /^101 \S+ alice$/);
    t.is(await c.request('users'), '103 alice:idle');
    t.is(await c.request('out'), '102');
    t.is(await c.next(), null);
  });
});

test('[T-2] arguments may be separated by several spaces or tabs', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request('NEW   alice'), '108 alice');
    t.regex((await c.request('CONNECT\talice \t 5004')) ?? '', /^101 \S+ alice$/);
    c.close();
  });
});

test('[T-3] every line the hub writes is a 3-digit code and bare arguments', async (t) => {
  await withHub(async ({ hub }) => {
    const a = await TextClient.connect(hub.textPort);
    const b = await connectedClient(hub.textPort, 'bob', 6006);
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
    const c = await TextClient.connect(hub.textPort);
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
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request('OUT'), '102');
    t.is(await c.next(), null);
  });
});

test('[T-5] a failed CONNECT leaves the connection unconnected', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
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
      const c = await TextClient.connect(hub.textPort);
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
        ? await connectedClient(hub.textPort, 'alice')
        : await TextClient.connect(hub.textPort);
      t.is(await c.request(req), reply);
      t.is(await c.request('PING ok'), '109 ok');
      c.close();
    });
  });
}

test('[T-5 table] PING without a token answers 109, with one echoes it', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    t.is(await c.request('PING'), '109');
    t.is(await c.request('PING 42'), '109 42');
    t.is(await c.request("PING ['tok']"), '109 tok');
    const long = 'z'.repeat(500);
    t.is(await c.request(`PING ${long}`), `109 ${long}`);
    c.close();
  });
});

test('[T-1] a client that half-closes after its requests gets every reply, then the hub closes', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    // `NEW` and `CONNECT` with a secret are answered asynchronously (scrypt).
    c.socket.end('NEW alice pw\r\nCONNECT alice 0 pw\r\nUSERS\r\nPING x\r\n');
    const got: string[] = [];
    for (let line = await c.next(15_000); line !== null; line = await c.next(15_000)) {
      got.push(line);
    }
    t.is(got.length, 4);
    t.is(got[0], '108 alice');
    t.regex(got[1]!, /^101 \S+ alice$/);
    t.deepEqual(got.slice(2), ['103 alice:idle', '109 x']);
    // And the user went offline with the connection.
    const id = hub.accounts.getByName('alice')!.id;
    for (let i = 0; i < 100 && hub.core.stateOf(id) !== 'offline'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    t.is(hub.core.stateOf(id), 'offline');
  });
});

test('[T-1] a client that half-closes at once is closed', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.textPort);
    c.socket.end();
    t.is(await c.next(), null);
  });
});
