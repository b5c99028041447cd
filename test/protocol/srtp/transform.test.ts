/**
 * The transform's behaviour [S-5]: round trips, drops with their reasons, rollover across
 * sequence wrap, late joiners, malformed input, and random input that must never throw.
 */
import test from 'ava';
import {
  newMasterKey,
  parseMasterKey,
  REPLAY_WINDOW,
  SRTP_MASTER_BYTES,
  SRTP_SUITE,
  SrtpKeyError,
  SrtpReceiver,
  SrtpSender,
} from '../../../protocol/srtp/index.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const KEY = newMasterKey();
const SSRC = 0x1234abcd;

/** An RTP packet with an 8-byte payload that names its sequence number. */
function rtp(seq: number, ssrc = SSRC, payload = 8): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < b.length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

test('keys: the suite, 30 random bytes in base64, and a strict parser', (t) => {
  t.is(SRTP_SUITE, 'AES_CM_128_HMAC_SHA1_80');
  t.is(SRTP_MASTER_BYTES, 30);
  const k = newMasterKey();
  t.regex(k, /^[A-Za-z0-9+/]{40}$/);
  t.not(k, newMasterKey());
  t.is(parseMasterKey(k).length, 30);
  t.deepEqual(parseMasterKey(k).toString('base64'), k);
  const bad = [
    '',
    k.slice(0, 39),
    `${k}A`,
    `${k.slice(0, 38)}==`,
    `${k.slice(0, 39)}-`, // base64url is not SDES
    `${k.slice(0, 20)} ${k.slice(21)}`,
    `inline:${k}`,
    `${k}|2^31`,
    Buffer.alloc(45).toString('base64'), // 45 bytes: AES-256's master length
  ];
  for (const b of bad) {
    const err = t.throws(() => parseMasterKey(b), { instanceOf: SrtpKeyError }, JSON.stringify(b));
    t.regex(err?.message ?? '', /exactly 30 bytes/);
    if (b.length > 8) t.false(err?.message.includes(b.slice(0, 8)), 'the key is never echoed');
  }
  t.throws(() => new SrtpSender('short'), { instanceOf: SrtpKeyError });
  t.throws(() => new SrtpReceiver('short'), { instanceOf: SrtpKeyError });
});

test('round trip: the receiver gets the exact RTP packet back, 10 bytes longer on the wire', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  for (let seq = 100; seq < 200; seq++) {
    const plain = rtp(seq);
    const srtp = tx.protect(plain);
    t.is(srtp.length, plain.length + 10);
    t.deepEqual(srtp.subarray(0, 12), plain.subarray(0, 12), 'the header stays clear');
    t.notDeepEqual(srtp.subarray(12, plain.length), plain.subarray(12), 'the payload is not');
    t.deepEqual(rx.unprotect(srtp), plain);
  }
  // An empty payload is legal RTP.
  t.deepEqual(rx.unprotect(tx.protect(rtp(200, SSRC, 0))), rtp(200, SSRC, 0));
  t.deepEqual(rx.stats, { ok: 101, auth: 0, replay: 0, malformed: 0 });
  t.is(new SrtpReceiver(newMasterKey()).unprotect(tx.protect(rtp(201))), 'auth', 'another key');
});

test('[S-5] a replayed packet is dropped and counted, also one replayed much later', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  const first = tx.protect(rtp(1));
  t.true(Buffer.isBuffer(rx.unprotect(first)));
  t.is(rx.unprotect(first), 'replay');
  for (let seq = 2; seq < 60; seq++) rx.unprotect(tx.protect(rtp(seq)));
  const p30 = tx.protect(rtp(30));
  t.is(rx.unprotect(p30), 'replay', 'a resend of an accepted index');
  t.deepEqual(rx.stats, { ok: 59, auth: 0, replay: 2, malformed: 0 });
});

test('[S-5] one flipped bit in the header, the payload or the tag: dropped as auth', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  const plain = rtp(500, SSRC, 40);
  const srtp = tx.protect(plain);
  const bits = srtp.length * 8;
  let dropped = 0;
  for (let bit = 0; bit < bits; bit++) {
    const bad = Buffer.from(srtp);
    bad[bit >> 3]! ^= 0x80 >> (bit & 7);
    const r = rx.unprotect(bad);
    // A flip of the version bits makes it malformed, one of X or CC may (the header then
    // claims more than there is); a flip of the sequence number's top bit reads as a packet
    // from before the stream began (ROC -1). Every other flip fails authentication.
    if (bit < 2) t.is(r, 'malformed', `bit ${bit}`);
    else if (bit < 8) t.true(r === 'auth' || r === 'malformed', `bit ${bit}: ${String(r)}`);
    else if (bit === 16) t.true(r === 'auth' || r === 'replay', `bit ${bit}: ${String(r)}`);
    else t.is(r, 'auth', `bit ${bit}`);
    dropped++;
  }
  t.is(dropped, bits);
  t.deepEqual(rx.unprotect(srtp), plain, 'the intact packet still passes after all that');
  t.is(rx.stats.ok, 1);
  t.is(rx.stats.auth + rx.stats.replay + rx.stats.malformed, bits);
  t.true(rx.stats.auth >= bits - 8);
});

test('[S-5] the window: reordering inside it is fine, a packet older than it is dropped', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  const packets = Array.from({ length: 400 }, (_, i) => tx.protect(rtp(1000 + i)));
  // Highest will be 399: 399 - 271 = 128 lies just outside a 128-packet window, 272 just
  // inside. Deliver 0 and 200..399 in order, holding 1..199, 271 and 272 back.
  t.is(REPLAY_WINDOW, 128);
  const held = new Set([271, 272]);
  t.true(Buffer.isBuffer(rx.unprotect(packets[0]!)));
  for (let i = 200; i < 400; i++) {
    if (!held.has(i)) t.true(Buffer.isBuffer(rx.unprotect(packets[i]!)));
  }
  t.is(rx.unprotect(packets[271]!), 'replay', 'older than the window');
  t.is(rx.unprotect(packets[150]!), 'replay', 'far older');
  t.deepEqual(rx.unprotect(packets[272]!), rtp(1000 + 272), 'the oldest the window takes');
  t.is(rx.unprotect(packets[272]!), 'replay', 'and only once');
  t.deepEqual(rx.stats, { ok: 200, auth: 0, replay: 3, malformed: 0 });
});

test('[S-5] a forged packet moves neither the window nor the rollover counter', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  t.true(Buffer.isBuffer(rx.unprotect(tx.protect(rtp(10)))));
  // A forgery far ahead: had it moved the window, packet 11 would be "too old".
  const forged = tx.protect(rtp(30000));
  forged[forged.length - 1]! ^= 1;
  t.is(rx.unprotect(forged), 'auth');
  const genuine = tx.protect(rtp(11));
  t.true(Buffer.isBuffer(rx.unprotect(genuine)));
  // A replay check happens before authentication, and a failed one is not recorded:
  // the same forged bytes are rejected again as auth, not replay.
  t.is(rx.unprotect(forged), 'auth');
  t.deepEqual(rx.stats, { ok: 2, auth: 2, replay: 0, malformed: 0 });
});

test('[S-5] sequence wrap across 65,535: the ROC moves on both sides, with reordering', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  // Three wraps: 65,400 .. 65,535, 0 .. 65,535 twice, then a bit more.
  const start = 65400;
  const total = 2 * 65536 + 400;
  const order: number[] = [];
  for (let i = 0; i < total; i++) order.push(i);
  // Swap neighbours around each wrap, and hold one packet back by 50 positions.
  const rand = mulberry32(11);
  for (let i = 1; i < total; i++) {
    const seq = (start + i) & 0xffff;
    if (seq < 20 || seq > 65515) {
      if (rand() < 0.5) [order[i - 1], order[i]] = [order[i]!, order[i - 1]!];
    }
  }
  const protectedByIndex: Buffer[] = [];
  // The sender protects in send order (it too sees some reordering around the wrap,
  // as a relay translating a reordered plain leg would).
  for (const i of order) protectedByIndex[i] = tx.protect(rtp(start + i));
  const late = order.splice(100, 1)[0]!; // arrives 50 packets after its place
  order.splice(150, 0, late);
  let ok = 0;
  for (const i of order) {
    const r = rx.unprotect(protectedByIndex[i]!);
    if (Buffer.isBuffer(r) && r.equals(rtp(start + i))) ok++;
  }
  t.is(ok, total, 'every packet decrypted to its plaintext');
  t.deepEqual(rx.stats, { ok: total, auth: 0, replay: 0, malformed: 0 });
  // After the wraps the two sides still agree: a fresh packet under ROC 2.
  t.deepEqual(rx.unprotect(tx.protect(rtp(start + total))), rtp(start + total));
  // A packet protected under another ROC (a fresh sender: ROC 0) fails authentication.
  t.is(rx.unprotect(new SrtpSender(KEY).protect(rtp(start + total + 1))), 'auth');
});

test('a receiver that joins mid-stream, also just before a wrap, follows the sender', (t) => {
  const tx = new SrtpSender(KEY);
  const packets = Array.from({ length: 2000 }, (_, i) => tx.protect(rtp(64000 + i)));
  const late = new SrtpReceiver(KEY);
  // Joins at 65,500 (under ROC 0), 36 packets before the wrap.
  for (let i = 1500; i < 1510; i++) t.deepEqual(late.unprotect(packets[i]!), rtp(64000 + i));
  // A packet from before it joined, within the window, is still taken, once.
  t.deepEqual(late.unprotect(packets[1499]!), rtp(64000 + 1499));
  t.is(late.unprotect(packets[1499]!), 'replay');
  for (let i = 1510; i < 2000; i++) t.deepEqual(late.unprotect(packets[i]!), rtp(64000 + i));
  t.deepEqual(late.stats, { ok: 501, auth: 0, replay: 1, malformed: 0 });
});

test('per-SSRC state: two streams under one key keep their own counters and windows', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  const a = [65534, 65535, 0, 1].map((s) => tx.protect(rtp(s, 0xaaaa)));
  const b = [65534, 65535, 0, 1].map((s) => tx.protect(rtp(s, 0xbbbb)));
  for (let i = 0; i < 4; i++) {
    t.true(Buffer.isBuffer(rx.unprotect(a[i]!)));
    t.true(Buffer.isBuffer(rx.unprotect(b[i]!)), 'the same index on another SSRC is no replay');
  }
  t.is(rx.unprotect(a[3]!), 'replay');
});

test('malformed input is dropped and counted, never thrown', (t) => {
  const tx = new SrtpSender(KEY);
  const good = tx.protect(rtp(7));
  const withFlags = (flags: number, body: Buffer) => {
    const b = Buffer.from(body);
    b[0] = flags;
    return b;
  };
  const table: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x80])],
    ['a bare RTP header, no tag', rtp(7, SSRC, 0)],
    ['header plus 9 tag bytes', good.subarray(0, 12 + 9)],
    ['version 0', withFlags(0x00, good)],
    ['version 1', withFlags(0x40, good)],
    ['version 3', withFlags(0xc0, good)],
    ['15 CSRCs past the end', withFlags(0x8f, good)],
    [
      'extension header past the end',
      withFlags(0x90, Buffer.concat([good.subarray(0, 12), Buffer.alloc(10)])),
    ],
    [
      'extension length past the end',
      withFlags(
        0x90,
        Buffer.concat([
          good.subarray(0, 12),
          Buffer.from([0xbe, 0xde, 0x00, 0x05]),
          Buffer.alloc(12),
        ]),
      ),
    ],
  ];
  const rx = new SrtpReceiver(KEY);
  for (const [name, bytes] of table) t.is(rx.unprotect(bytes), 'malformed', name);
  t.deepEqual(rx.stats, { ok: 0, auth: 0, replay: 0, malformed: table.length });
  // The sender refuses what is not RTP: it is only handed packets already checked.
  t.throws(() => tx.protect(Buffer.alloc(11)), { instanceOf: TypeError });
  t.throws(() => tx.protect(withFlags(0x8f, rtp(1))), { instanceOf: TypeError });
});

test('fuzz: random and mutated datagrams never throw and never authenticate', (t) => {
  const tx = new SrtpSender(KEY);
  const rx = new SrtpReceiver(KEY);
  const rand = mulberry32(42);
  const seed = tx.protect(rtp(9, SSRC, 60));
  let n = 0;
  for (let i = 0; i < 5000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.alloc(Math.floor(rand() * 120));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      if (b.length > 0 && rand() < 0.7) b[0] = (b[0]! & 0x3f) | 0x80; // mostly version 2
    } else {
      b = Buffer.from(seed);
      // One to four bytes changed (a second change of the same byte may undo the first).
      while (b.equals(seed)) {
        for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
          b[Math.floor(rand() * b.length)]! ^= 1 + Math.floor(rand() * 255);
        }
      }
    }
    const r = rx.unprotect(b);
    t.true(r === 'malformed' || r === 'auth' || r === 'replay');
    n++;
  }
  t.is(n, 5000);
  t.is(rx.stats.ok, 0);
});
