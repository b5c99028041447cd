/**
 * The binary dialect's framing, in process, checked on raw bytes:
 * request and response layout [B-1, B-2], the frame limit [B-3], routes, and field lists
 * [B-4].
 */
import type { Duplex } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import type { ConnectionLimits } from '../../../hub/context.ts';
import { parseFields } from '../../../protocol/binary/fields.ts';
import { dial, type Target } from '../../helpers/dial.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';

/** A raw connection that keeps every byte received, for byte-level assertions. */
class RawConn {
  readonly socket: Duplex;
  #buf = Buffer.alloc(0);
  #closed = false;
  readonly #waiters: Array<() => void> = [];

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static async open(target: Target): Promise<RawConn> {
    return new RawConn(await dial(target));
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(...parts: Array<Buffer | string>): void {
    this.socket.write(
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))),
    );
  }

  /** The next `n` bytes (rejects if the connection closes first or after `ms`). */
  async take(n: number, ms = 3000): Promise<Buffer> {
    await this.#until(() => this.#buf.length >= n, ms);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** The next response frame [B-2], with its raw bytes. */
  async frame(ms = 3000): Promise<{ status: string; data: string; bytes: Buffer }> {
    const prefix = await this.take(8, ms);
    const statusSize = prefix.readUInt32LE(0);
    const dataSize = prefix.readUInt32LE(4);
    const body = await this.take(statusSize + dataSize, ms);
    return {
      status: body.subarray(0, statusSize).toString('latin1'),
      data: body.subarray(statusSize).toString('utf8'),
      bytes: Buffer.concat([prefix, body]),
    };
  }

  /** Resolves once the hub closed the connection (rejects after `ms`). */
  async waitClosed(ms = 3000): Promise<void> {
    await this.#until(() => this.#closed, ms, true);
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #until(ready: () => boolean, ms: number, closing = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else if (this.#closed && !closing) {
          clearTimeout(timer);
          reject(new Error('connection closed'));
        } else this.#waiters.push(check);
      };
      check();
    });
  }
}

/** A hub for one test; its raw connections are closed, then the hub stopped, at teardown. */
async function hubFor(t: ExecutionContext, limits: Partial<ConnectionLimits> = {}) {
  const h = await startHub([], limits);
  const conns: RawConn[] = [];
  t.teardown(async () => {
    for (const c of conns) c.close();
    await h.stop();
  });
  return {
    async open(): Promise<RawConn> {
      const c = await RawConn.open(h.hub.binary);
      conns.push(c);
      return c;
    },
  };
}

/** A request frame built byte by byte, not with the codec under test [B-1]. */
function rawRequest(
  header: string | Buffer,
  route: string | Buffer,
  data: string | Buffer,
): Buffer {
  const [h, r, d] = [header, route, data].map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
  const prefix = Buffer.alloc(12);
  prefix.writeUInt32LE(h!.length, 0);
  prefix.writeUInt32LE(r!.length, 4);
  prefix.writeUInt32LE(d!.length, 8);
  return Buffer.concat([prefix, h!, r!, d!]);
}

/** The 12-byte prefix alone, declaring the given sizes [B-1]. */
function prefixOnly(headerSize: number, routeSize: number, dataSize: number): Buffer {
  const prefix = Buffer.alloc(12);
  prefix.writeUInt32LE(headerSize, 0);
  prefix.writeUInt32LE(routeSize, 4);
  prefix.writeUInt32LE(dataSize, 8);
  return prefix;
}

test('[B-1][B-2] a request of three LE uint32 sizes + parts gets a response of two LE uint32 sizes + ASCII status + data', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  const data = 'user_mail: "alice@example.org", pass: "pw"';
  c.write(rawRequest('', '/create', data));
  const res = await c.frame();
  t.is(res.bytes.readUInt32LE(0), 3);
  t.is(res.bytes.readUInt32LE(4), Buffer.byteLength(res.data));
  t.is(res.bytes.subarray(8, 11).toString('latin1'), '201');
  t.is(res.bytes.length, 8 + 3 + Buffer.byteLength(res.data));
  t.regex(res.data, /^id: "[0-9a-f-]{36}", name: "alice", token: "[A-Za-z0-9_-]+"$/);

  // A 401 is the 8-byte prefix, `401` and no data at all.
  c.write(rawRequest('id: "x", token: "y"', '/contacts', ''));
  const refused = await c.frame();
  t.deepEqual(
    refused.bytes,
    Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('401')]),
  );
});

test('[B-7][T-11] events are response frames with status 100, written after the reply that caused them', async (t) => {
  const h = await hubFor(t);
  const bob = await h.open();
  bob.write(rawRequest('', '/create', 'user_mail: "bob@example.org", pass: "pw"'));
  const b = parseFields((await bob.frame()).data);
  const alice = await h.open();
  alice.write(rawRequest('', '/create', 'user_mail: "alice@example.org", pass: "pw"'));
  const a = parseFields((await alice.frame()).data);

  alice.write(rawRequest(`id: "${a.id}", token: "${a.token}"`, '/call', `contact_id: "${b.id}"`));
  const callId = parseFields((await alice.frame()).data).call_id!;
  const called = await bob.frame();
  t.is(called.bytes.readUInt32LE(0), 3);
  t.is(called.status, '100');
  t.is(
    called.data,
    `event: "called", call_id: "${callId}", from_id: "${a.id}", from_name: "alice"`,
  );

  bob.write(rawRequest(`id: "${b.id}", token: "${b.token}"`, '/accept', `call_id: "${callId}"`));
  const reply = await bob.frame();
  const started = await bob.frame();
  t.deepEqual([reply.status, reply.data], ['200', '']);
  t.is(started.status, '100');
  t.regex(
    started.data,
    /^event: "call_started", call_id: "[^"]+", peer_id: "[^"]+", peer_name: "alice", ip: "127\.0\.0\.1", port: "\d+"$/,
  );
  t.is((await alice.frame()).status, '100');
});

test('[B-1] sizes are little-endian: the same prefix written big-endian declares a huge frame', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  const route = Buffer.from('/contacts');
  const be = Buffer.alloc(12);
  be.writeUInt32BE(0, 0);
  be.writeUInt32BE(route.length, 4);
  be.writeUInt32BE(0, 8);
  c.write(be, route);
  const res = await c.frame();
  t.deepEqual([res.status, res.data], ['400', 'error: "frame_too_large"']);
  await c.waitClosed();
});

test('[B-1] a request split into one-byte writes, and many frames in one write, are each served', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  const frame = rawRequest('', '/create', 'user_mail: "a@example.org", pass: "pw"');
  for (const byte of frame) {
    c.write(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  t.is((await c.frame()).status, '201');
  const refused = rawRequest('', '/contacts', '');
  c.write(Buffer.concat([refused, refused, refused]));
  for (let i = 0; i < 3; i++) t.is((await c.frame()).status, '401');
});

test('[B-3] a 12-byte prefix declaring 1 GiB gets 400 frame_too_large and the connection closes, without the body', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  c.write(prefixOnly(0, 9, 1 << 30));
  const res = await c.frame();
  t.deepEqual([res.status, parseFields(res.data)], ['400', { error: 'frame_too_large' }]);
  await c.waitClosed();
});

test('[B-3] the limit counts the prefix and the declared sizes: exactly the limit is served, one byte more is refused', async (t) => {
  const maxFrame = 256;
  const h = await hubFor(t, { maxFrame });
  const route = '/contacts';
  const header = (n: number) => `id: "${'x'.repeat(n - 12 - route.length - 17)}", token: ""`;
  t.is(Buffer.byteLength(header(maxFrame)) + 12 + route.length, maxFrame);

  const ok = await h.open();
  ok.write(rawRequest(header(maxFrame), route, ''));
  t.is((await ok.frame()).status, '401');
  t.false(ok.closed);

  const big = await h.open();
  big.write(rawRequest(header(maxFrame + 1), route, ''));
  const res = await big.frame();
  t.deepEqual([res.status, res.data], ['400', 'error: "frame_too_large"']);
  await big.waitClosed();
});

test('[B-2] responses come in request order, errors from the frame decoder included', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  c.write(rawRequest('', '/create', 'user_mail: "alice@example.org", pass: "pw"'));
  const created = await c.frame();
  t.is(created.status, '201');
  // /login takes a password hash; the bad frame behind it must still be answered second.
  c.write(
    rawRequest('', '/login', 'user_mail: "alice@example.org", pass: "pw"'),
    rawRequest('', '/contacts', Buffer.from([0xff, 0xfe])),
  );
  const first = await c.frame();
  const second = await c.frame();
  t.deepEqual([first.status, second.status, second.data], ['200', '400', 'error: "bad_encoding"']);
  // A frame too large behind a slow request: the earlier answer is not lost.
  c.write(
    rawRequest('', '/login', 'user_mail: "alice@example.org", pass: "pw"'),
    prefixOnly(0, 0, 1 << 30),
  );
  const login = await c.frame();
  const tooLarge = await c.frame();
  t.deepEqual(
    [login.status, tooLarge.status, tooLarge.data],
    ['200', '400', 'error: "frame_too_large"'],
  );
  await c.waitClosed();
});

test('[B-3] a route that does not start with `/` is 400; an unknown route is 404; the connection stays', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  for (const route of ['create', '', ' /create', 'login/']) {
    c.write(rawRequest('', route, 'user_mail: "a@example.org", pass: "pw"'));
    const res = await c.frame();
    t.deepEqual([res.status, res.data], ['400', 'error: "bad_route"'], JSON.stringify(route));
  }
  for (const route of ['/nope', '/CREATE', '/create/', '/constructor', '/__proto__']) {
    c.write(rawRequest('', route, ''));
    const res = await c.frame();
    t.deepEqual([res.status, res.data], ['404', 'error: "unknown_route"'], route);
  }
  c.write(rawRequest('', '/create', 'user_mail: "a@example.org", pass: "pw"'));
  t.is((await c.frame()).status, '201');
});

test('[B-1] invalid UTF-8 in any part is 400 bad_encoding; the connection stays', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  const bad = Buffer.from([0x22, 0xc3, 0x28, 0x22]);
  for (const [header, route, data] of [
    [bad, '/contacts', ''],
    ['', Buffer.concat([Buffer.from('/'), bad]), ''],
    ['', '/create', Buffer.concat([Buffer.from('user_mail: '), bad])],
  ] as const) {
    c.write(rawRequest(header, route, data));
    const res = await c.frame();
    t.deepEqual([res.status, res.data], ['400', 'error: "bad_encoding"']);
  }
  t.false(c.closed);
});

test('[B-4] `\\"` and `\\\\` escapes in values round-trip through /create, /login and /add_contact', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  // E-mail o"brien\x@example.org, password p"w\ — written with the escapes by hand.
  const mail = String.raw`o\"brien\\x@example.org`;
  const pass = String.raw`p\"w\\`;
  c.write(rawRequest('', '/create', `user_mail: "${mail}", pass: "${pass}"`));
  const created = await c.frame();
  t.is(created.status, '201');
  const user = parseFields(created.data);
  t.is(user.name, 'obrienx'); // [B-5] only [a-z0-9._-] of the local part
  c.write(rawRequest('', '/login', `user_mail: "${mail}", pass: "${pass}"`));
  t.is((await c.frame()).status, '200');
  c.write(rawRequest('', '/login', `user_mail: "${mail}", pass: "p\\"w"`));
  t.is((await c.frame()).status, '401');

  c.write(rawRequest('', '/create', 'user_mail: "bob@example.org", pass: "pw"'));
  const bob = parseFields((await c.frame()).data);
  const bobHeader = `id: "${bob.id}", token: "${bob.token}"`;
  c.write(rawRequest(bobHeader, '/add_contact', `contact_email: "${mail}"`));
  t.is((await c.frame()).status, '200');
  c.write(rawRequest(bobHeader, '/contacts', ''));
  t.is((await c.frame()).data, `[id: "${user.id}", name: "obrienx", status: "pending"]`);
});

test('[B-4] the seed spelling with uppercase keys (`Id`, `Token`, `User_Mail`) is accepted', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  c.write(rawRequest('', '/create', 'User_Mail: "alice@example.org", Pass: "pw"'));
  const created = parseFields((await c.frame()).data);
  t.is(created.name, 'alice');
  c.write(rawRequest(`Id: "${created.id}", Token: "${created.token}"`, '/contacts', ''));
  t.is((await c.frame()).status, '200');
  c.write(rawRequest(`ID:"${created.id}",TOKEN :  "${created.token}"  `, '/contacts', ''));
  t.is((await c.frame()).status, '200');
});

test('[B-4] bad field syntax is 400 bad_fields in header or data; the connection stays', async (t) => {
  const h = await hubFor(t);
  const c = await h.open();
  const bad = [
    'id: unquoted',
    'id "x"',
    'id: "x" token: "y"',
    'id: "unterminated',
    String.raw`id: "bad \q escape"`,
    'id: "a", id: "b"',
    'i-d: "x"',
    'id: "x",',
    '[id: "x"]',
    ': "x"',
  ];
  for (const fields of bad) {
    c.write(rawRequest(fields, '/contacts', ''));
    const header = await c.frame();
    t.deepEqual([header.status, header.data], ['400', 'error: "bad_fields"'], `header ${fields}`);
    c.write(rawRequest('', '/create', fields));
    const data = await c.frame();
    t.deepEqual([data.status, data.data], ['400', 'error: "bad_fields"'], `data ${fields}`);
  }
  c.write(rawRequest('', '/create', 'user_mail: "a@example.org", pass: "pw"'));
  t.is((await c.frame()).status, '201');
});
