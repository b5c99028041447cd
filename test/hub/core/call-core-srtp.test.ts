/**
 * [S-4] SRTP keys from the call core: fresh per call and direction, only to secure
 * parties, paired so that what one sends with the other receives with, handed to the
 * relay per leg; a call with one secure and one plain party is relayed whatever the mode.
 */
import test from 'ava';
import type { Endpoint, RelayMode, SrtpKeys } from '../../../hub/core/types.ts';
import { capturingLog } from '../../helpers/log.ts';
import { setup } from './fixtures/core.ts';

const BASE64_30 = /^[A-Za-z0-9+/]{40}$/;

/** Alice calls Bob, Bob answers; each party's keys as the core handed them. */
async function answered(
  relayMode: RelayMode,
  aliceSecure: boolean,
  bobSecure: boolean,
  ports = [5000, 6000],
) {
  const cap = capturingLog('info');
  const s = setup(relayMode, cap.log);
  const alice = s.connect('alice', ports[0], '192.168.1.10', aliceSecure);
  const bob = s.connect('bob', ports[1], '192.168.1.20', bobSecure);
  const info = await s.core.call(alice, s.user('bob'), () => {});
  let bobKeys: SrtpKeys | null | undefined;
  let bobMedia: Endpoint | undefined;
  s.core.accept(bob, { callId: info.id }, (_c, _p, media, srtp) => {
    bobKeys = srtp;
    bobMedia = media;
  });
  const aliceKeys = s.sink('alice').keys.at(-1);
  return { ...s, info, alice, bob, aliceKeys, bobKeys, bobMedia, cap };
}

test('[S-4] both secure, direct: keys per direction, paired end to end, no relay', async (t) => {
  const { info, aliceKeys, bobKeys, relay } = await answered('auto', true, true);
  t.false(info.relayed);
  t.is(relay.legs.length, 0);
  if (!aliceKeys || !bobKeys) return t.fail('keys missing');
  for (const k of [aliceKeys.send, aliceKeys.recv]) t.regex(k, BASE64_30);
  t.is(Buffer.from(aliceKeys.send, 'base64').length, 30);
  t.not(aliceKeys.send, aliceKeys.recv);
  t.deepEqual(bobKeys, { send: aliceKeys.recv, recv: aliceKeys.send });
});

test('[S-4] both plain: no keys, as the seed', async (t) => {
  const { aliceKeys, bobKeys, info } = await answered('auto', false, false);
  t.is(aliceKeys, null);
  t.is(bobKeys, null);
  t.false(info.relayed);
});

test('[S-4] keys are fresh for every call', async (t) => {
  const s = setup('auto');
  const alice = s.connect('alice', 5000, '192.168.1.10', true);
  const bob = s.connect('bob', 6000, '192.168.1.20', true);
  const seen = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const info = await s.core.call(alice, s.user('bob'), () => {});
    s.core.accept(bob, { callId: info.id }, () => {});
    const k = s.sink('alice').keys.at(-1);
    if (!k) return t.fail('no keys');
    seen.add(k.send).add(k.recv);
    s.core.hangup(alice, { callId: info.id }, () => {});
  }
  t.is(seen.size, 10);
});

for (const mode of ['auto', 'always', 'never'] as const) {
  for (const [aliceSecure, bobSecure] of [
    [true, false],
    [false, true],
  ] as const) {
    test(`[S-4] one secure and one plain party (${aliceSecure ? 'caller' : 'callee'} secure), relay ${mode}: relayed, keys to the secure leg only`, async (t) => {
      const r = await answered(mode, aliceSecure, bobSecure);
      t.true(r.info.relayed);
      const [a, b] = r.relay.legs[0] ?? [];
      if (!a || !b) return t.fail('no relay allocated');
      const secureKeys = aliceSecure ? r.aliceKeys : r.bobKeys;
      const plainKeys = aliceSecure ? r.bobKeys : r.aliceKeys;
      t.is(plainKeys, null);
      if (!secureKeys) return t.fail('no keys for the secure leg');
      // The relay gets the secure party's own view of its keys, the plain leg none.
      t.deepEqual(aliceSecure ? a.srtp : b.srtp, secureKeys);
      t.is(aliceSecure ? b.srtp : a.srtp, null);
      t.deepEqual(a.device, { ip: '192.168.1.10', port: 5000 });
      t.deepEqual(b.device, { ip: '192.168.1.20', port: 6000 });
      // Media goes to the relay's ports.
      t.deepEqual(r.bobMedia, { ip: '10.0.0.1', port: 40001 });
      t.is(r.sink('alice').log.at(-1), '106 bob 10.0.0.1 40000');
      const warned = r.cap.records.filter(
        (x) => x.level === 40 && /relay: never/.test(String(x.msg)),
      );
      t.is(warned.length, mode === 'never' ? 1 : 0);
    });
  }
}

test('[S-4] both secure, relayed (--relay always): the same keys scheme, each leg its own view', async (t) => {
  const { info, relay, aliceKeys, bobKeys } = await answered('always', true, true);
  t.true(info.relayed);
  const [a, b] = relay.legs[0] ?? [];
  t.deepEqual(a?.srtp, aliceKeys);
  t.deepEqual(b?.srtp, bobKeys);
  t.deepEqual(bobKeys, { send: aliceKeys?.recv, recv: aliceKeys?.send });
});

test('[S-4] a plain relayed call hands the relay no keys', async (t) => {
  const { relay } = await answered('always', false, false);
  t.deepEqual(
    relay.legs[0]?.map((l) => l.srtp),
    [null, null],
  );
});
