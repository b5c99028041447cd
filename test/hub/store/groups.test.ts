/** [G-1] The group store: one namespace with users [T-4], all-or-nothing changes. */
import test from 'ava';
import { AccountError, AccountStore } from '../../../hub/store/accounts.ts';
import { openDatabase } from '../../../hub/store/db.ts';
import { GroupError } from '../../../hub/store/groups.ts';

async function store() {
  const accounts = new AccountStore(openDatabase(':memory:'), () => 1000);
  for (const name of ['alice', 'bob', 'carol']) await accounts.createUser({ name });
  return accounts;
}
const names = (g: { members: ReadonlyArray<{ name: string }> } | null | undefined) =>
  g?.members.map((m) => m.name);

test('add creates a group, adds members (sorted, idempotent), any case', async (t) => {
  const a = await store();
  const first = a.groups.add('House', ['Carol', 'alice']);
  t.true(first.created);
  t.is(first.group.name, 'house');
  t.deepEqual(names(first.group), ['alice', 'carol']);
  const again = a.groups.add('house', ['bob', 'alice']);
  t.false(again.created);
  t.deepEqual(names(again.group), ['alice', 'bob', 'carol']);
  t.deepEqual(
    a.groups.list().map((g) => [g.name, names(g)]),
    [['house', ['alice', 'bob', 'carol']]],
  );
});

test('refusals: a user name, an unknown member (nothing added), bad names, no members', async (t) => {
  const a = await store();
  t.is(
    t.throws(() => a.groups.add('bob', ['alice']), { instanceOf: GroupError })?.reason,
    'user_name',
  );
  const unknown = t.throws(() => a.groups.add('house', ['alice', 'zed', 'yan']), {
    instanceOf: GroupError,
  });
  t.is(unknown?.reason, 'unknown_member');
  t.deepEqual(unknown?.names, ['zed', 'yan']);
  t.is(a.groups.get('house'), undefined, 'all or nothing: no group was made');
  t.is(
    t.throws(() => a.groups.add('no way', ['alice']), { instanceOf: GroupError })?.reason,
    'invalid',
  );
  t.is(
    t.throws(() => a.groups.add('calls', ['alice']), { instanceOf: GroupError })?.reason,
    'invalid',
  );
  t.is(t.throws(() => a.groups.add('house', []), { instanceOf: GroupError })?.reason, 'no_members');
});

test('a user may not take a group name, and derived names skip groups [T-4]', async (t) => {
  const a = await store();
  a.groups.add('dave', ['alice']);
  const err = await t.throwsAsync(a.createUser({ name: 'Dave' }), { instanceOf: AccountError });
  t.is(err?.reason, 'exists');
  const derived = await a.createUser({ email: 'dave@example.com', secret: 'pw' });
  t.is(derived.name, 'dave2');
});

test('remove takes members out, or deletes the group; refusals leave it unchanged', async (t) => {
  const a = await store();
  a.groups.add('house', ['alice', 'bob', 'carol']);
  t.deepEqual(names(a.groups.remove('house', ['bob'])), ['alice', 'carol']);
  const outside = t.throws(() => a.groups.remove('house', ['alice', 'bob']), {
    instanceOf: GroupError,
  });
  t.is(outside?.reason, 'not_member');
  t.deepEqual(outside?.names, ['bob']);
  t.is(
    t.throws(() => a.groups.remove('house', ['zed']), { instanceOf: GroupError })?.reason,
    'unknown_member',
  );
  t.deepEqual(names(a.groups.get('house')), ['alice', 'carol']);
  t.is(a.groups.remove('house'), null);
  t.is(a.groups.get('house'), undefined);
  t.is(t.throws(() => a.groups.remove('house'), { instanceOf: GroupError })?.reason, 'unknown');
});

test('deleting a user drops it from its groups', async (t) => {
  const a = await store();
  a.groups.add('house', ['alice', 'bob']);
  a.deleteUser(a.getByName('bob')!.id);
  t.deepEqual(names(a.groups.get('house')), ['alice']);
});

test('onChange: told after each change that went through, never for a refused one', async (t) => {
  const a = await store();
  let changes = 0;
  a.groups.onChange(() => changes++);
  a.groups.add('house', ['alice']);
  t.is(changes, 1);
  t.throws(() => a.groups.add('house', ['nobody']), { instanceOf: GroupError });
  t.throws(() => a.groups.remove('house', ['bob']), { instanceOf: GroupError });
  t.is(changes, 1);
  a.groups.add('house', ['bob']);
  a.groups.remove('house', ['bob']);
  t.is(a.groups.remove('house'), null);
  t.is(changes, 4);
});

test('onChange: told when deleting a user took it out of a group, not for a user in none', async (t) => {
  const a = await store();
  a.groups.add('house', ['alice', 'bob']);
  let changes = 0;
  a.groups.onChange(() => {
    changes++;
    // The listener already sees the group without the deleted member.
    t.deepEqual(names(a.groups.get('house')), ['alice']);
  });
  t.true(a.deleteUser(a.getByName('bob')!.id));
  t.is(changes, 1);
  t.true(a.deleteUser(a.getByName('carol')!.id));
  t.false(a.deleteUser('no-such-id'));
  t.is(changes, 1);
});
