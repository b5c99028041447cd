/**
 * Tokens and secrets of the binary dialect, in process [B-9]: token strength and renewal,
 * what the SQLite file holds, and tokens bound to their user.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { BinaryClient, createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess as startHub } from '../../helpers/in-process-hub.ts';

/** A hub for one test; its clients are closed, then the hub stopped, at teardown. */
async function hubFor(t: ExecutionContext) {
  const h = await startHub();
  const clients: BinaryClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await h.stop();
  });
  const port = h.hub.binary;
  return {
    dataDir: h.dataDir,
    async connect(): Promise<BinaryClient> {
      const c = await BinaryClient.connect(port);
      clients.push(c);
      return c;
    },
    async user(mail: string, pass: string) {
      const u = await createdUser(port, mail, pass);
      clients.push(u.client);
      return u;
    },
  };
}

const auth = (u: { id: string; token: string }): Fields => ({ id: u.id, token: u.token });

test('[B-9] tokens carry at least 128 bits as base64url and differ at every login', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org', 'pw');
  const tokens = new Set([alice.token]);
  const c = await h.connect();
  for (let i = 0; i < 5; i++) {
    const r = await c.request('/login', {}, { user_mail: 'alice@example.org', pass: 'pw' });
    t.is(r.status, 200);
    tokens.add(r.fields.token!);
  }
  t.is(tokens.size, 6);
  for (const token of tokens) {
    t.regex(token, /^[A-Za-z0-9_-]+$/);
    t.true(token.length * 6 >= 128, token);
  }
  // A second user's tokens share nothing with the first's either.
  const bob = await h.user('bob@example.org', 'pw');
  t.false(tokens.has(bob.token));
});

test('[B-9] the SQLite file holds neither the password nor the token in clear; passwords are salted hashes', async (t) => {
  const h = await hubFor(t);
  const pass = 'correct-horse-battery-staple-7f3a';
  const alice = await h.user('alice@example.org', pass);
  const bob = await h.user('bob@example.org', pass);
  const c = await h.connect();
  const login = await c.request('/login', {}, { user_mail: 'alice@example.org', pass });
  const token = login.fields.token!;
  const secrets = [pass, token, bob.token, Buffer.from(token, 'base64url').toString('hex')];

  const file = path.join(h.dataDir, 'babel.sqlite');
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
    t.true(tables.includes('users') && tables.includes('tokens'));
    const cells: string[] = [];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all() as Array<
        Record<string, unknown>
      >) {
        for (const v of Object.values(row)) {
          if (Buffer.isBuffer(v))
            cells.push(v.toString('hex'), v.toString('latin1'), v.toString('base64url'));
          else cells.push(String(v));
        }
      }
    }
    for (const secret of secrets)
      t.false(
        cells.some((cell) => cell.includes(secret)),
        secret,
      );
    const hashes = db
      .prepare<[], { secret_hash: string }>('SELECT secret_hash FROM users ORDER BY name')
      .all()
      .map((r) => r.secret_hash);
    t.is(hashes.length, 2);
    for (const hash of hashes)
      t.regex(hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    t.not(hashes[0], hashes[1], 'the same password hashes differently for two users (salt)');
    // One token row per user: the login replaced the token /create gave.
    const rows = db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM tokens WHERE user_id = ?',
    );
    t.is(rows.get(alice.id)?.n, 1);
  } finally {
    db.close();
  }
  // Nor anywhere in the raw bytes, write-ahead log included (and the tls/ files, S-2).
  const files = fs.readdirSync(h.dataDir, { recursive: true, encoding: 'utf8' });
  for (const name of files.filter((f) => fs.statSync(path.join(h.dataDir, f)).isFile())) {
    const bytes = fs.readFileSync(path.join(h.dataDir, name));
    for (const secret of [pass, token, bob.token]) {
      t.is(bytes.indexOf(secret), -1, `${name} contains ${secret}`);
    }
  }
});

test('[B-9] a token is bound to its user: another user token, an altered or empty one is 401', async (t) => {
  const h = await hubFor(t);
  const alice = await h.user('alice@example.org', 'pw');
  const bob = await h.user('bob@example.org', 'pw');
  const c = await h.connect();
  const flipped = (alice.token[0] === 'A' ? 'B' : 'A') + alice.token.slice(1);
  for (const token of [bob.token, flipped, alice.token.slice(0, -1), `${alice.token}A`, '']) {
    for (const route of ['/contacts', '/delete']) {
      const r = await c.request(route, { id: alice.id, token }, {});
      t.deepEqual([r.status, r.raw], [401, ''], `${route} ${token}`);
    }
  }
  // Bob's token works only as Bob; Alice was not deleted.
  t.is((await c.request('/contacts', auth(bob))).status, 200);
  t.is((await c.request('/contacts', auth(alice))).status, 200);
  const logoutOther = await c.request(
    '/logout',
    {},
    { user_mail: 'alice@example.org', token: bob.token },
  );
  t.is(logoutOther.status, 401);
  t.is((await c.request('/contacts', auth(alice))).status, 200);
});
