/**
 * babel-media's SRTP (native/media/src/srtp.c) against protocol/srtp/: RFC 3711's known
 * answers, protect byte-equal to the TS, each side unprotecting the other's packets across
 * rollover-counter wraps, every drop reason with the same counters, and fuzz.
 */
import test from 'ava';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { bytes, c, hex, int, mangle, packetAt, tsParse } from './wire-helpers.ts';

const MASTER = hex('E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6');

test('RFC 3711 B.2: the AES-CM keystream, and B.3: key derivation', (t) => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const ks = c.srtpKeystream(key, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 1044512);
  const block = (n: number) =>
    ks
      .subarray(16 * n, 16 * n + 16)
      .toString('hex')
      .toUpperCase();
  t.is(block(0x0000), 'E03EAD0935C95E80E166B16DD92B4EB4');
  t.is(block(0x0001), 'D23513162B02D0F72A43A2FE4A5F97AB');
  t.is(block(0x0002), '41E95B3BB0A2E8DD477901E4FCA894C0');
  t.is(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  t.is(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  t.is(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
  t.is(
    c.srtpDerive(MASTER, 0, 16).toString('hex').toUpperCase(),
    'C61E7A93744F39EE10734AFE3FF7A087',
  );
  t.is(c.srtpDerive(MASTER, 2, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  t.is(
    c.srtpDerive(MASTER, 1, 94).toString('hex').toUpperCase(),
    'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE' +
      'E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25' +
      '6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
  );
});

test("libsrtp's reference packet: protect and unprotect", (t) => {
  const plain = hex(`800f1234decafbadcafebabe${'ab'.repeat(16)}`);
  const srtp = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
  t.deepEqual(new c.SrtpSender(MASTER).protect(plain), srtp);
  const rx = new c.SrtpReceiver(MASTER);
  t.deepEqual(rx.unprotect(srtp), plain);
  t.deepEqual(rx.stats, { ok: 1, auth: 0, replay: 0, malformed: 0 });
});

/** Both implementations of each side under one random master key. */
function pair(rand: () => number) {
  const master = bytes(rand, 30);
  const b64 = master.toString('base64');
  return {
    tsTx: new SrtpSender(b64),
    cTx: new c.SrtpSender(master),
    tsRx: new SrtpReceiver(b64),
    cRx: new c.SrtpReceiver(master),
  };
}

test('SRTP interop: C and TS protect to the same bytes and each unprotects the other, across wraps', (t) => {
  const rand = mulberry32(6);
  const { tsTx, cTx, tsRx, cRx } = pair(rand);
  const ssrc = 0xdecafbad;
  // 2 wraps of the sequence number with reordering around them.
  const seqs: number[] = [];
  for (let i = 0; i < 5000; i++) seqs.push(65000 + i * 30 + (i % 7 === 3 ? -40 : 0));
  let ok = 0;
  const sent: Buffer[] = [];
  for (const [i, seq] of seqs.entries()) {
    const plain = packetAt(rand, ssrc, seq);
    const fromTs = tsTx.protect(plain);
    const fromC = cTx.protect(plain);
    t.deepEqual(fromC, fromTs);
    const a = cRx.unprotect(fromTs);
    const b = tsRx.unprotect(fromC);
    t.deepEqual(a, b);
    if (Buffer.isBuffer(a) && a.equals(plain)) ok++;
    sent.push(fromC);
    // Now and then a resend of the previous packet (a replay) or of one long gone.
    if (i % 50 === 10) t.is(cRx.unprotect(sent[i - 1]!), tsRx.unprotect(sent[i - 1]!));
    if (i % 50 === 20) t.is(cRx.unprotect(sent[i - 20]!), tsRx.unprotect(sent[i - 20]!));
  }
  t.is(ok, seqs.length, 'every packet, the reordered ones too');
  t.deepEqual(cRx.stats, tsRx.stats);
  t.deepEqual(cRx.stats, { ok, auth: 0, replay: 200, malformed: 0 });
});

test('SRTP receiver: tampering, replay, the window, truncation and counters, as the TS', (t) => {
  const rand = mulberry32(7);
  const { tsTx, tsRx, cRx } = pair(rand);
  const feed = (b: Buffer) => {
    const want = tsRx.unprotect(b);
    const got = cRx.unprotect(b);
    t.deepEqual(got, want);
    return got;
  };
  const ssrc = 42;
  const packets = Array.from({ length: 400 }, (_, i) =>
    tsTx.protect(packetAt(rand, ssrc, 65400 + i)),
  );
  t.true(Buffer.isBuffer(feed(packets[0]!)));
  t.is(feed(packets[0]!), 'replay');
  // Every byte tampered with in turn: dropped (mostly 'auth'), never accepted.
  for (let i = 0; i < packets[1]!.length; i++) {
    const bad = Buffer.from(packets[1]!);
    bad[i]! ^= 1 << int(rand, 8);
    t.false(Buffer.isBuffer(feed(bad)), `byte ${i}`);
  }
  t.true(cRx.stats.auth >= packets[1]!.length - 12);
  // In order with holes, then the held ones: inside the window accepted once, beyond dropped.
  for (let i = 200; i < 400; i++) if (i !== 271 && i !== 272 && i !== 300) feed(packets[i]!);
  t.is(feed(packets[271]!), 'replay', 'older than the window');
  t.true(Buffer.isBuffer(feed(packets[272]!)), 'the oldest the window takes');
  t.true(Buffer.isBuffer(feed(packets[300]!)), 'reordered within the window');
  t.is(feed(packets[300]!), 'replay');
  for (const cut of [0, 1, 11, 21, packets[5]!.length - 11]) {
    const r = feed(packets[5]!.subarray(0, cut));
    if (cut < 22) t.is(r, 'malformed');
    else t.false(Buffer.isBuffer(r));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
});

test('SRTP: more SSRCs than the 16 tracked, the oldest forgotten as in the TS', (t) => {
  const rand = mulberry32(8);
  const { tsTx, cTx, tsRx, cRx } = pair(rand);
  for (let i = 0; i < 3000; i++) {
    const ssrc = 1000 + int(rand, 20);
    const plain = packetAt(rand, ssrc, int(rand, 0x10000));
    const a = tsTx.protect(plain);
    t.deepEqual(cTx.protect(plain), a);
    t.deepEqual(cRx.unprotect(a), tsRx.unprotect(a));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
});

test('fuzz: random and mangled datagrams through unprotect and rtpParse, the same answers', (t) => {
  const rand = mulberry32(9);
  const { tsTx, tsRx, cRx } = pair(rand);
  for (let i = 0; i < 20000; i++) {
    const good = tsTx.protect(packetAt(rand, 77 + int(rand, 3), 100 + i));
    const b = rand() < 0.3 ? good : mangle(rand, good);
    t.deepEqual(cRx.unprotect(b), tsRx.unprotect(b));
    t.deepEqual(c.rtpParse(b), tsParse(b));
  }
  t.deepEqual(cRx.stats, tsRx.stats);
  t.true(cRx.stats.ok > 1000 && cRx.stats.malformed > 100 && cRx.stats.auth > 1000);
});
