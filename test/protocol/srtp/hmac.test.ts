import { createHmac } from 'node:crypto';
import test from 'ava';
import { HmacSha1 } from '../../../protocol/srtp/hmac.ts';
import { mulberry32 } from '../../helpers/prng.ts';

test('RFC 2202 HMAC-SHA1 test case 2, both paths', (t) => {
  const data = Buffer.from('what do ya want for nothing?');
  for (const hmac of [new HmacSha1(Buffer.from('Jefe')), new HmacSha1(Buffer.from('Jefe'), null)]) {
    t.is(hmac.digest(data).toString('hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  }
});

test('one-shot and createHmac paths agree with Node for any key and length', (t) => {
  const rand = mulberry32(5);
  const bytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  for (const keyLength of [0, 1, 20, 63, 64]) {
    const key = bytes(keyLength);
    const fast = new HmacSha1(key);
    const slow = new HmacSha1(key, null);
    // Lengths past the scratch buffer's first size (256) make it grow, then shrink again.
    for (const n of [0, 1, 55, 56, 64, 100, 256, 1500, 12, 0]) {
      const data = bytes(n);
      const want = createHmac('sha1', key).update(data).digest();
      t.deepEqual(fast.digest(data), want, `key ${keyLength}, data ${n}`);
      t.deepEqual(slow.digest(data), want);
    }
  }
  t.throws(() => new HmacSha1(Buffer.alloc(65)), { instanceOf: RangeError });
});
