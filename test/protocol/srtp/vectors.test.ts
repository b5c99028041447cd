/**
 * Known answers: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation),
 * and libsrtp's reference packet (test/srtp_driver.c, srtp_validate), which also checks
 * the packet IV and the HMAC tag. Hex copied from the RFC and libsrtp.
 */
import test from 'ava';
import { SrtpReceiver, SrtpSender } from '../../../protocol/srtp/index.ts';
import { AesCm, deriveKey, deriveSessionKeys, Label } from '../../../protocol/srtp/kdf.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 3711 B.2: AES-CM keystream', (t) => {
  const aes = new AesCm(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
  // Session salt F0F1...FCFD, SSRC 0, index 0: the IV is the salt shifted by 16 bits.
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = aes.keystream(iv, 1044512); // 65282 blocks, the RFC's segment
  const block = (n: number) =>
    ks
      .subarray(16 * n, 16 * n + 16)
      .toString('hex')
      .toUpperCase();
  t.is(ks.length, 1044512);
  t.is(block(0x0000), 'E03EAD0935C95E80E166B16DD92B4EB4');
  t.is(block(0x0001), 'D23513162B02D0F72A43A2FE4A5F97AB');
  t.is(block(0x0002), '41E95B3BB0A2E8DD477901E4FCA894C0');
  t.is(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  t.is(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  t.is(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
  // A partial block is the keystream's prefix; the cipher object is reused between calls.
  t.deepEqual(aes.keystream(iv, 5), hex('E03EAD0935'));
  t.deepEqual(aes.keystream(iv, 0), Buffer.alloc(0));
});

const MASTER_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const MASTER_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

test('RFC 3711 B.3: key derivation', (t) => {
  const aes = new AesCm(MASTER_KEY);
  t.is(
    deriveKey(aes, MASTER_SALT, Label.rtpEncryption, 16).toString('hex').toUpperCase(),
    'C61E7A93744F39EE10734AFE3FF7A087',
  );
  t.is(
    deriveKey(aes, MASTER_SALT, Label.rtpSalt, 14).toString('hex').toUpperCase(),
    '30CBBC08863D8C85D49DB34A9AE1',
  );
  // The RFC lists 94 bytes of the authentication keystream; the suite uses the first 20.
  t.is(
    deriveKey(aes, MASTER_SALT, Label.rtpAuthentication, 94).toString('hex').toUpperCase(),
    'CEBE321F6FF7716B6FD4AB49AF256A15' +
      '6D38BAA48F0A0ACF3C34E2359E6CDBCE' +
      'E049646C43D9327AD175578EF7227098' +
      '6371C10C9A369AC2F94A8C5FBCDDDC25' +
      '6D6E919A48B610EF17C2041E47403576' +
      '6B68642C59BBFC2F34DB60DBDFB2',
  );
  const keys = deriveSessionKeys(Buffer.concat([MASTER_KEY, MASTER_SALT]));
  t.is(keys.encKey.toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087');
  t.is(keys.salt.toString('hex'), '30cbbc08863d8c85d49db34a9ae1');
  t.is(keys.authKey.toString('hex'), 'cebe321f6ff7716b6fd4ab49af256a156d38baa4');
});

const MASTER_B64 = Buffer.concat([MASTER_KEY, MASTER_SALT]).toString('base64');
const PLAIN = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
const PROTECTED = hex(
  '800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb',
);

test('libsrtp reference packet: protect and unprotect', (t) => {
  t.deepEqual(new SrtpSender(MASTER_B64).protect(PLAIN), PROTECTED);
  const rx = new SrtpReceiver(MASTER_B64);
  t.deepEqual(rx.unprotect(PROTECTED), PLAIN);
  t.deepEqual(rx.stats, { ok: 1, auth: 0, replay: 0, malformed: 0 });
});

test('CSRCs and a header extension stay clear; the payload keystream is unchanged', (t) => {
  // The reference packet with two CSRCs and a 2-word extension: same SSRC and index,
  // so the payload encrypts to the same bytes; the header is copied as it is.
  const header = hex(
    '920f1234decafbadcafebabe' + '11111111' + '22222222' + 'bede0002' + 'aabbccdd' + '01020304',
  );
  const plain = Buffer.concat([header, Buffer.alloc(16, 0xab)]);
  const srtp = new SrtpSender(MASTER_B64).protect(plain);
  t.is(srtp.length, plain.length + 10);
  t.deepEqual(srtp.subarray(0, header.length), header);
  t.is(
    srtp.subarray(header.length, header.length + 16).toString('hex'),
    '4e55dc4ce79978d88ca4d215949d2402',
  );
  t.deepEqual(new SrtpReceiver(MASTER_B64).unprotect(srtp), plain);
});
