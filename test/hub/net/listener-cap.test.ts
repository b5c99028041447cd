/**
 * `max_connections` counts both dialects together: two listeners share one cap, over
 * real TCP on loopback; past it a new connection is closed at accept.
 */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { ConnectionCap, Listener } from '../../../hub/net/listener.ts';
import { realClock } from '../../../shared/clock.ts';
import { testLog } from '../../helpers/log.ts';

test('two listeners, one cap of 2: the third connection, to either, is closed at accept', async (t) => {
  const cap = new ConnectionCap(2);
  const served: net.Socket[] = [];
  const handle = (s: import('node:stream').Duplex) => {
    served.push(s as net.Socket);
    s.resume();
    s.once('end', () => s.end()); // half-open sockets: the adapters' pump does this
  };
  const a = new Listener(handle, { log: testLog, clock: realClock, cap });
  const b = new Listener(handle, { log: testLog, clock: realClock, cap });
  const pa = (await a.listen(0, '127.0.0.1')).port;
  const pb = (await b.listen(0, '127.0.0.1')).port;
  t.teardown(async () => {
    await a.close(0);
    await b.close(0);
  });
  const dial = async (port: number) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  };
  const one = await dial(pa);
  const two = await dial(pb);
  while (cap.open < 2) await new Promise((r) => setImmediate(r));
  const three = await dial(pa);
  await once(three, 'close');
  t.is(cap.refused, 1);
  t.is(served.length, 2);
  one.destroy();
  while (cap.open > 1) await new Promise((r) => setImmediate(r));
  const four = await dial(pb);
  while (served.length < 3) await new Promise((r) => setImmediate(r));
  t.is(cap.open, 2);
  for (const s of [two, four]) s.destroy();
});
