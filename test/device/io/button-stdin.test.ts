import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import test from 'ava';
import type { ButtonPress } from '../../../device/io/button.ts';
import { StdinButton } from '../../../device/io/button-stdin.ts';
import { testLog } from '../../helpers/log.ts';

/** Resolves once `n` presses arrived (bounded). */
function presses(button: StdinButton, n: number): Promise<ButtonPress[]> {
  const got: ButtonPress[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${n} presses: not within 3000 ms`)), 3000);
    button.on('press', (p) => {
      got.push(p);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

test('`press` and `long` lines, in any case and spacing; other lines counted', async (t) => {
  const input = new PassThrough();
  const button = new StdinButton({ log: testLog, input });
  const ready = once(button, 'ready');
  button.start();
  await ready;
  const got = presses(button, 3);
  input.write('press\nlo');
  input.write('ng\r\n\n  PRESS  \nbogus\n');
  t.deepEqual(await got, [{ long: false }, { long: true }, { long: false }]);
  t.is(button.unknownLines, 1);
  t.is(button.label, 'stdin');
  await button.stop();
});

test('after stop, lines are ignored and the input stays open', async (t) => {
  const input = new PassThrough();
  const button = new StdinButton({ log: testLog, input });
  button.start();
  const got = presses(button, 1);
  input.write('press\n');
  await got;
  await button.stop();
  let after = 0;
  button.on('press', () => after++);
  input.write('press\n');
  await new Promise((r) => setImmediate(r));
  t.is(after, 0);
  t.false(input.destroyed);
});

test('the end of input is not a fault', async (t) => {
  const input = new PassThrough();
  const button = new StdinButton({ log: testLog, input });
  let faults = 0;
  button.on('fault', () => faults++);
  button.start();
  const got = presses(button, 1);
  input.end('long\n');
  t.deepEqual(await got, [{ long: true }]);
  await new Promise((r) => setImmediate(r));
  t.is(faults, 0);
  await button.stop();
});
