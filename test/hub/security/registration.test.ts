/**
 * [S-6] Registration, in process over duplex pairs on a FakeClock: closed by default in
 * both dialects, opened by a pairing window for its minutes only, and every account has
 * a secret outside open registration.
 */
import test, { type ExecutionContext } from 'ava';
import { BinaryClient } from '../../helpers/binary-client.ts';
import { SECURE_ENV, SEED_ENV, tempDir } from '../../helpers/hub.ts';
import { startHubInProcess, type TestHubInProcess } from '../../helpers/in-process-hub.ts';
import { TextClient } from '../../helpers/text-client.ts';

/** Bound on replies that wait for scrypt, generous for a loaded machine. */
const SLOW = 15_000;

async function hubWith(t: ExecutionContext, env: NodeJS.ProcessEnv): Promise<TestHubInProcess> {
  const h = await startHubInProcess([], {}, tempDir(), env);
  t.teardown(() => h.stop());
  return h;
}

test('closed by default: NEW gets 408 <name> forbidden, /create 403 registration_closed, nothing is created', async (t) => {
  const { hub } = await hubWith(t, SECURE_ENV);
  const text = await TextClient.connect(hub.text);
  t.is(await text.request('NEW alice s3cret-alice', SLOW), '408 alice forbidden');
  t.is(await text.request('NEW Bob', SLOW), '408 bob forbidden');
  const bin = await BinaryClient.connect(hub.binary);
  const r = await bin.request('/create', {}, { user_mail: 'carol@example.org', pass: 'pw' }, SLOW);
  t.deepEqual([r.status, r.fields], [403, { error: 'registration_closed' }]);
  t.deepEqual(hub.accounts.listUsers(), []);
  text.close();
  bin.close();
});

test('a pairing window opens registration (with a secret) for its minutes, then it is closed again', async (t) => {
  const { hub, clock } = await hubWith(t, SECURE_ENV);
  const states: string[] = [];
  hub.access.onPairing((s) => states.push(s));
  hub.access.pairing.open(1);
  const text = await TextClient.connect(hub.text);
  t.is(await text.request('NEW alice s3cret-alice', SLOW), '108 alice');
  // [S-6] outside open registration every account has a secret, in a window too
  t.is(await text.request('NEW bob', SLOW), '408 bob invalid');
  const bin = await BinaryClient.connect(hub.binary);
  const r = await bin.request('/create', {}, { user_mail: 'carol@example.org', pass: 'pw' }, SLOW);
  t.is(r.status, 201);
  text.close();
  bin.close();
  // (connections that have not logged in last 10 s [S-8]: fresh ones after each wait)
  clock.advance(59_999);
  const later = await TextClient.connect(hub.text);
  t.is(await later.request('NEW dave s3cret-dave', SLOW), '108 dave');
  clock.advance(1);
  t.is(await later.request('NEW erin s3cret-erin', SLOW), '408 erin forbidden');
  const bin2 = await BinaryClient.connect(hub.binary);
  const r2 = await bin2.request('/create', {}, { user_mail: 'fred@example.org', pass: 'pw' }, SLOW);
  t.deepEqual([r2.status, r2.fields], [403, { error: 'registration_closed' }]);
  t.deepEqual(states, ['open', 'closed']);
  t.deepEqual(
    hub.accounts.listUsers().map((u) => [u.name, u.hasSecret]),
    [
      ['alice', true],
      ['carol', true],
      ['dave', true],
    ],
  );
  later.close();
  bin2.close();
});

test('outside open registration an account without a secret cannot log in: CONNECT 401 bad_secret, /login 401', async (t) => {
  const { hub } = await hubWith(t, SECURE_ENV);
  await hub.accounts.createUser({ name: 'legacy' }); // made by an older hub
  const text = await TextClient.connect(hub.text);
  t.is(await text.request('CONNECT legacy 0', SLOW), '401 legacy bad_secret');
  t.is(await text.request('CONNECT legacy 0 anything', SLOW), '401 legacy bad_secret');
  const bin = await BinaryClient.connect(hub.binary);
  const r = await bin.request('/login', {}, { user_mail: 'legacy', pass: 'anything' }, SLOW);
  t.is(r.status, 401);
  // a pairing window is not open registration
  hub.access.pairing.open(1);
  t.is(await text.request('CONNECT legacy 0', SLOW), '401 legacy bad_secret');
  t.truthy(hub.accounts.getByName('legacy'));
  text.close();
  bin.close();
});

test('open registration keeps the seed behaviour: NEW without a secret, CONNECT without one', async (t) => {
  const { hub } = await hubWith(t, SEED_ENV);
  const text = await TextClient.connect(hub.text);
  t.is(await text.request('NEW alice', SLOW), '108 alice');
  t.regex((await text.request('CONNECT alice 0', SLOW)) ?? '', /^101 \S+ alice$/);
  text.close();
});

test('binary /login never lets one into an account without a secret, open registration or not; its token could delete it', async (t) => {
  const { hub } = await hubWith(t, SEED_ENV);
  const text = await TextClient.connect(hub.text);
  t.is(await text.request('NEW door', SLOW), '108 door');
  const bin = await BinaryClient.connect(hub.binary);
  for (const pass of ['x', 'anything at all']) {
    const r = await bin.request('/login', {}, { user_mail: 'door', pass }, SLOW);
    t.is(r.status, 401);
  }
  t.truthy(hub.accounts.getByName('door'));
  text.close();
  bin.close();
});
