import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { BinaryClient } from '../helpers/binary-client.ts';
import { spawnHubProcess, tempDir } from '../helpers/hub.ts';
import { TextClient } from '../helpers/text-client.ts';

/**
 * The hub itself is killed with SIGKILL while clients create, befriend and delete accounts
 * through both dialects. Everything the hub acknowledged must be in the database, which
 * must open cleanly [issue: accounts that survive power loss].
 *
 * Each round kills the hub only once the writers have had enough of each kind of
 * operation acknowledged (counted, not timed), so a slow machine makes the test slower,
 * never weaker; the writers are still running when the kill lands.
 */
test('kill -9 of the hub during writes loses no acknowledged NEW, /create, /add_contact or /delete', async (t) => {
  const dataDir = tempDir();
  const acked = {
    users: new Set<string>(),
    deleted: new Set<string>(),
    contacts: new Set<string>(),
  };
  /** Acknowledged users, deletes and contacts held before each round's kill. */
  const enough = (round: number) =>
    acked.users.size >= 5 * (round + 1) &&
    acked.deleted.size >= 2 * (round + 1) &&
    acked.contacts.size >= 2 * (round + 1);
  for (let round = 0; round < 3; round++) {
    const hub = await spawnHubProcess(['--text-port', '0'], dataDir);
    const text = await TextClient.connect(hub.textPort);
    const binary = await BinaryClient.connect(hub.binaryPort);
    let killed = false;
    let wake: () => void = () => {};
    const progress = new Promise<void>((resolve) => {
      wake = () => {
        if (enough(round)) resolve();
      };
    });

    const textLoop = (async () => {
      for (let i = 0; !killed; i++) {
        const name = `t${round}x${i}`;
        const reply = await text.request(`NEW ${name}`).catch(() => null);
        if (reply === `108 ${name}`) acked.users.add(name);
        if (reply === null) return;
        wake();
      }
    })();
    const binaryLoop = (async () => {
      let previous: { id: string; name: string; mail: string; token: string } | null = null;
      for (let i = 0; !killed; i++) {
        wake(); // what the last iteration acknowledged
        const mail = `b${round}x${i}@example.org`;
        const created = await binary
          .request('/create', {}, { user_mail: mail, pass: 'pw' })
          .catch(() => null);
        if (created?.status !== 201) return;
        const me = {
          id: created.fields.id!,
          name: created.fields.name!,
          mail,
          token: created.fields.token!,
        };
        acked.users.add(me.name);
        if (previous) {
          const added = await binary
            .request(
              '/add_contact',
              { id: me.id, token: me.token },
              { contact_email: previous.mail },
            )
            .catch(() => null);
          if (added?.status === 200) acked.contacts.add(`${me.id}>${previous.id}`);
        }
        if (i % 3 === 2) {
          const gone = await binary
            .request('/delete', { id: me.id, token: me.token })
            .catch(() => null);
          if (gone?.status === 200) {
            acked.deleted.add(me.name);
            acked.users.delete(me.name);
            // A deleted user's contacts go with it (ON DELETE CASCADE).
            for (const c of acked.contacts)
              if (c.startsWith(`${me.id}>`) || c.endsWith(`>${me.id}`)) acked.contacts.delete(c);
            previous = null;
            continue;
          }
        }
        previous = me;
      }
    })();

    // Kill once enough work is acknowledged; writers that stop first fail the round.
    const writersStopped = Promise.race([textLoop, binaryLoop]).then(() => 'stopped' as const);
    t.is(await Promise.race([progress.then(() => 'enough' as const), writersStopped]), 'enough');
    t.true(enough(round), `round ${round}: acknowledged work before the kill`);
    killed = true;
    await hub.kill('SIGKILL');
    await Promise.all([textLoop, binaryLoop]);
    text.close();
    binary.close();

    const db = new Database(path.join(dataDir, 'babel.sqlite'), { readonly: true });
    t.is(db.pragma('integrity_check', { simple: true }), 'ok');
    const names = new Set(
      (db.prepare('SELECT name FROM users').all() as Array<{ name: string }>).map((r) => r.name),
    );
    const contacts = new Set(
      (
        db.prepare('SELECT owner_id, contact_id FROM contacts').all() as Array<{
          owner_id: string;
          contact_id: string;
        }>
      ).map((r) => `${r.owner_id}>${r.contact_id}`),
    );
    db.close();
    for (const n of acked.users) t.true(names.has(n), `acknowledged user ${n} survives`);
    for (const n of acked.deleted) t.false(names.has(n), `acknowledged delete of ${n} survives`);
    for (const c of acked.contacts) t.true(contacts.has(c), `acknowledged contact ${c} survives`);
  }
  t.true(acked.users.size > 10, `the run did some work (${acked.users.size} users)`);
  t.true(acked.deleted.size > 0 && acked.contacts.size > 0, 'deletes and contacts were exercised');
});
