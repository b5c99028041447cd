/**
 * [S-4] SRTP keys on the wire, in process, both dialects: `106 ... AES_CM_128_HMAC_SHA1_80
 * <send> <recv>` on a TLS leg and the seed's `106` on a plaintext leg; binary
 * `call_started` with `srtp_suite`, `srtp_send`, `srtp_recv` on TLS only; a call with one
 * leg of each goes through the relay.
 */
import test, { type ExecutionContext } from 'ava';
import type { CallEvent } from '../../../hub/core/types.ts';
import type { Fields } from '../../../protocol/binary/fields.ts';
import { createdUser } from '../../helpers/binary-client.ts';
import { startHubInProcess } from '../../helpers/in-process-hub.ts';
import { connectedClient } from '../../helpers/text-client.ts';
import { SECURE_106 } from '../../helpers/transcript.ts';

async function hubFor(t: ExecutionContext, argv: string[] = []) {
  const h = await startHubInProcess(argv);
  const closers: Array<{ close(): void }> = [];
  const calls: CallEvent[] = [];
  h.hub.core.observe({ call: (e) => calls.push(e) });
  t.teardown(async () => {
    for (const c of closers) c.close();
    await h.stop();
  });
  return {
    h,
    calls,
    async text(name: string, port: number, secure: boolean) {
      const c = await connectedClient(secure ? h.hub.textTls : h.hub.text, name, port);
      closers.push(c);
      return c;
    },
    async binary(mail: string, port: number, secure: boolean) {
      const u = await createdUser(secure ? h.hub.binaryTls : h.hub.binary, mail, 'pw', {
        media_port: String(port),
      });
      closers.push(u.client);
      return u;
    },
  };
}

function keysOf(
  t: ExecutionContext,
  line: string | null,
): { seed: string; send: string; recv: string } {
  const m = SECURE_106.exec(line ?? '');
  if (!m) {
    t.fail(`${line} carries no SRTP keys`);
    return { seed: '', send: '', recv: '' };
  }
  return { seed: m[1]!, send: m[2]!, recv: m[3]! };
}

for (const relay of ['auto', 'never']) {
  test(`[S-4] a TLS text client calls a plaintext one (relay ${relay}): relayed, keys only to the TLS leg`, async (t) => {
    const { text, calls } = await hubFor(t, ['--relay', relay]);
    const alice = await text('alice', 5004, true);
    const bob = await text('bob', 6006, false);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    const atBob = (await bob.request('ACCEPT alice')) ?? '';
    const atAlice = keysOf(t, await alice.next());
    // The seed's 106 to the plaintext client, with a relay port, not alice's own.
    t.regex(atBob, /^106 alice 127\.0\.0\.1 \d+$/);
    t.not(atBob, '106 alice 127.0.0.1 5004');
    t.regex(atAlice.seed, /^106 bob 127\.0\.0\.1 \d+$/);
    t.not(atAlice.seed, '106 bob 127.0.0.1 6006');
    t.not(atAlice.send, atAlice.recv);
    t.true(calls.find((e) => e.event === 'started')?.call.relayed);
  });
}

test('[S-4] both on TLS: keys pair end to end, across dialects; the call is direct', async (t) => {
  const { text, binary, calls } = await hubFor(t);
  const alice = await binary('alice@example.org', 5004, true);
  const door = await text('door', 7000, true);
  await alice.client.request(
    '/add_contact',
    { id: alice.id, token: alice.token },
    { contact_email: 'door' },
  );
  const listed = await alice.client.request('/contacts', { id: alice.id, token: alice.token });
  const doorId = /id: "([^"]+)"/.exec(listed.raw)?.[1] ?? '';
  const r = await alice.client.request(
    '/call',
    { id: alice.id, token: alice.token },
    { contact_id: doorId },
  );
  t.is(r.status, 200);
  // `/call` answers where to send media; keys come with call_started only.
  t.deepEqual(Object.keys(r.fields), ['ip', 'port', 'call_id']);
  t.is(await door.next(), '105 alice');
  const atDoor = keysOf(t, await door.request('ACCEPT alice'));
  t.is(atDoor.seed, '106 alice 127.0.0.1 5004');
  const started: Fields = await alice.client.event();
  t.like(started, {
    event: 'call_started',
    ip: '127.0.0.1',
    port: '7000',
    srtp_suite: 'AES_CM_128_HMAC_SHA1_80',
    srtp_send: atDoor.recv,
    srtp_recv: atDoor.send,
  });
  t.false(calls.find((e) => e.event === 'started')?.call.relayed);
});

test('[S-4] binary call_started: srtp fields on a TLS session, none on a plaintext one; relayed', async (t) => {
  const { binary } = await hubFor(t);
  const alice = await binary('alice@example.org', 5004, true);
  const bob = await binary('bob@example.org', 6006, false);
  const r = await alice.client.request(
    '/call',
    { id: alice.id, token: alice.token },
    { contact_id: bob.id },
  );
  t.is(r.status, 200);
  t.not(r.fields.port, '6006'); // a relay port
  const called = await bob.client.event();
  t.is(
    (
      await bob.client.request(
        '/accept',
        { id: bob.id, token: bob.token },
        { call_id: called.call_id! },
      )
    ).status,
    200,
  );
  const atBob: Fields = await bob.client.event();
  const atAlice: Fields = await alice.client.event();
  t.deepEqual(Object.keys(atBob), ['event', 'call_id', 'peer_id', 'peer_name', 'ip', 'port']);
  t.deepEqual(Object.keys(atAlice), [
    'event',
    'call_id',
    'peer_id',
    'peer_name',
    'ip',
    'port',
    'srtp_suite',
    'srtp_send',
    'srtp_recv',
  ]);
  t.is(atAlice.srtp_suite, 'AES_CM_128_HMAC_SHA1_80');
  for (const k of [atAlice.srtp_send, atAlice.srtp_recv]) {
    t.is(Buffer.from(k ?? '', 'base64').length, 30);
  }
});

test('[S-4] keys differ from call to call', async (t) => {
  const { text } = await hubFor(t);
  const alice = await text('alice', 5004, true);
  const bob = await text('bob', 6006, true);
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    const k = keysOf(t, await bob.request('ACCEPT alice'));
    keysOf(t, await alice.next());
    seen.add(k.send).add(k.recv);
    t.is(await alice.request('HANGUP bob'), '107 bob ended');
    t.is(await bob.next(), '107 alice ended');
  }
  t.is(seen.size, 6);
});
