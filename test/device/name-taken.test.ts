/**
 * Issue 14: two devices with one name took it from each other forever (24 registrations
 * in 10 s) and nothing said so. Now the hub logs who took the name from whom, and a device
 * whose link the hub keeps closing right after it registers says once why that probably
 * is and backs off. Two real HubClients on one fake clock against the hub's call core and
 * text dialect over real TCP on loopback; registrations counted over 10 simulated seconds.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { HubClient } from '../../device/hub/client.ts';
import { textHandler } from '../../hub/text/connection.ts';
import { Backoff } from '../../shared/backoff.ts';
import { FakeClock } from '../../shared/clock.ts';
import { startHubInProcess } from '../helpers/in-process-hub.ts';
import { captureLog } from './capture-log.ts';

type Phase = 'connecting' | 'online' | 'waiting';

test('two devices named alike: the hub says who took the name, the devices back off', async (t) => {
  const hubLog = captureLog('info');
  const { hub, stop } = await startHubInProcess([], {}, undefined, undefined, hubLog.log);
  const handle = textHandler(hub.ctx);
  const server = net.createServer((s) => {
    handle(s, {
      address: (s.remoteAddress ?? '').replace(/^::ffff:/, ''),
      port: s.remotePort ?? 0,
      localAddress: (s.localAddress ?? '').replace(/^::ffff:/, ''),
      secure: false,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;

  const clock = new FakeClock();
  const wake = new EventEmitter();
  const devices = [5004, 5006].map((mediaPort) => {
    const { log, records } = captureLog('info');
    const phase: { now: Phase } = { now: 'connecting' };
    const client = new HubClient({
      host: '127.0.0.1',
      port,
      name: 'door',
      secret: 'same-secret-for-both',
      mediaPort,
      autoCreate: true,
      clock,
      log,
      backoff: new Backoff({ minMs: 250, maxMs: 3000, jitter: 0 }),
      connectFn: (p, h) => {
        phase.now = 'connecting';
        return net.connect(p, h);
      },
    });
    let registrations = 0;
    const changed = () => wake.emit('change');
    client.on('online', () => {
      registrations++;
      phase.now = 'online';
      changed();
    });
    client.on('offline', () => {
      phase.now = 'waiting';
      changed();
    });
    return { client, records, phase, registrations: () => registrations };
  });

  /** Until no link is being set up and the hub has closed the one it took the name from. */
  const quiet = async () => {
    for (;;) {
      const phases = devices.map((d) => d.phase.now);
      if (!phases.includes('connecting') && phases.filter((p) => p === 'online').length <= 1)
        return;
      await once(wake, 'change');
    }
  };

  try {
    for (const d of devices) d.client.start();
    while (clock.now() < 10_000) {
      await quiet();
      clock.advance(10);
    }
    await quiet();
    const total = devices.reduce((n, d) => n + d.registrations(), 0);
    t.true(total <= 8, `${total} registrations in 10 s`);
    t.true(total >= 3, `${total}: the name did change hands`);
    for (const d of devices) {
      const warned = d.records.filter(
        (r) => r.level === 40 && /another device is probably using the name door/.test(r.msg),
      );
      t.is(warned.length, 1, 'each device says it once');
      t.true((warned[0]?.retryInMs as number) >= 3500);
    }
    const takeovers = hubLog.records.filter(
      (r) => r.level === 40 && r.msg.startsWith('name taken over by another address'),
    );
    t.is(takeovers.length, total - 1, 'every takeover is logged');
    t.like(takeovers[0], { user: 'door', dialect: 'text' });
    t.deepEqual([...new Set(takeovers.map((r) => `${r.from} -> ${r.by}`))].sort(), [
      '127.0.0.1:5004 -> 127.0.0.1:5006',
      '127.0.0.1:5006 -> 127.0.0.1:5004',
    ]);
  } finally {
    for (const d of devices) d.client.stop();
    clock.advance(1000);
    server.close();
    await stop();
  }
});

test('a device reconnecting from where it was replaces its old session quietly (info)', async (t) => {
  const hubLog = captureLog('info');
  const { hub, stop } = await startHubInProcess([], {}, undefined, undefined, hubLog.log);
  try {
    const say = async (peerPort: number) => {
      const s = hub.text.connect({ port: peerPort });
      s.write('NEW kitchen pw\r\n');
      s.write('CONNECT kitchen 5004 pw\r\n');
      for (;;) {
        const [chunk] = (await once(s, 'data')) as [Buffer];
        if (/^101 /m.test(chunk.toString())) return s;
      }
    };
    await say(40_001);
    await say(40_002);
    t.deepEqual(
      hubLog.records
        .filter((r) => /session replaced|name taken over/.test(r.msg))
        .map((r) => [r.level, r.msg]),
      [[30, 'session replaced by a new connection from the same address']],
    );
  } finally {
    await stop();
  }
});
