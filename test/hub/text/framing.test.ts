/**
 * The text dialect's line framing, in process [T-1]: line limits, terminators, splits,
 * encoding, and half-close. Request syntax is in syntax.test.ts.
 */
import test from 'ava';
import { untilState, within } from '../../helpers/hub-events.ts';
import {
  startHubInProcess as startHub,
  type TestHubInProcess as TestHub,
} from '../../helpers/in-process-hub.ts';
import { TextClient } from '../../helpers/text-client.ts';

/** Runs `body` against a fresh hub and stops the hub whatever happens. */
async function withHub(body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub();
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** A request of exactly `bytes` bytes, terminator included: `PING tok`, padded with spaces. */
function pingOfSize(bytes: number, terminator: '\r\n' | '\n'): Buffer {
  const head = 'PING tok';
  const line = Buffer.from(head + ' '.repeat(bytes - head.length - terminator.length) + terminator);
  if (line.length !== bytes) throw new Error('bad fixture');
  return line;
}

test('[T-1] a line of exactly 1024 bytes including CRLF is accepted', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(pingOfSize(1024, '\r\n'));
    t.is(await c.next(), '109 tok');
    t.is(await c.request('PING after'), '109 after');
    c.close();
  });
});

test('[T-1] a line of exactly 1024 bytes ending in a bare LF is accepted', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(pingOfSize(1024, '\n'));
    t.is(await c.next(), '109 tok');
    c.close();
  });
});

test('[T-1] a line of 1025 bytes including CRLF gets 400 line_too_long, then the hub closes', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(pingOfSize(1025, '\r\n'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
    t.true(c.closed);
  });
});

test('[T-1] a line of 1025 bytes ending in a bare LF gets 400 line_too_long', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(pingOfSize(1025, '\n'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] an overlong line is refused before its terminator arrives', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(Buffer.alloc(4096, 'x'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] an overlong line sent a byte at a time over many writes is still refused', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw('PING ');
    for (let i = 0; i < 20; i++) c.writeRaw(Buffer.alloc(60, 'y'));
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] requests before an overlong line in the same write are answered first', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw(Buffer.concat([Buffer.from('PING one\r\nPING two\r\n'), pingOfSize(1025, '\r\n')]));
    t.is(await c.next(), '109 one');
    t.is(await c.next(), '109 two');
    t.is(await c.next(), '400 line_too_long');
    t.is(await c.next(), null);
  });
});

test('[T-1] a bare LF ends a line like CRLF', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw('NEW alice\nCONNECT alice\nUSERS\n');
    t.is(await c.next(), '108 alice');
    t.regex((await c.next()) ?? '', /^101 \S+ alice$/);
    t.is(await c.next(), '103 alice:idle');
    c.close();
  });
});

test('[T-1] a request split across writes at every offset is read as one line', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
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
      const c = await TextClient.connect(hub.text);
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
    const c = await TextClient.connect(hub.text);
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
    const c = await TextClient.connect(hub.text);
    // NEW with a secret hashes it (scrypt), so its reply is asynchronous.
    c.writeRaw(Buffer.concat([Buffer.from('NEW alice s3cret\r\n'), Buffer.from([0xff, 0x0a])]));
    t.is(await c.next(15_000), '108 alice');
    t.is(await c.next(), '400 bad_encoding');
    c.close();
  });
});

test('[T-1] UTF-8 is decoded: a non-ASCII name is refused as invalid, not as bad_encoding', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    t.is(await c.request('NEW zoë'), '408 zoë invalid');
    c.close();
  });
});

test('[T-1] empty lines are ignored', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.writeRaw('\r\n\n   \r\nPING x\r\n');
    t.is(await c.next(), '109 x');
    t.true(await c.quiet(50));
    c.close();
  });
});

test('[T-1] a client that half-closes after its requests gets every reply, then the hub closes', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
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
    await within(untilState(hub.core, id, 'offline'), 1000);
    t.is(hub.core.stateOf(id), 'offline');
  });
});

test('[T-1] a client that half-closes at once is closed', async (t) => {
  await withHub(async ({ hub }) => {
    const c = await TextClient.connect(hub.text);
    c.socket.end();
    t.is(await c.next(), null);
  });
});
