import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { controlRequest, HubNotRunningError } from '../../../hub/control/client.ts';
import { CONTROL_SOCKET, ControlServer } from '../../../hub/control/server.ts';
import { tempDir } from '../../helpers/hub.ts';
import { testLog } from '../../helpers/log.ts';

async function started(handlers: ConstructorParameters<typeof ControlServer>[1]) {
  const dir = tempDir('babel-control-');
  const server = new ControlServer(dir, handlers, testLog);
  await server.start();
  return { dir, server };
}

test('a request reaches its handler; the reply carries ok', async (t) => {
  const { dir, server } = await started({
    pair: (req) => ({ minutes: Number(req.minutes) * 2 }),
  });
  t.deepEqual(await controlRequest(dir, { cmd: 'pair', minutes: 5 }), { ok: true, minutes: 10 });
  await server.stop();
});

test('the socket is for the hub user only (mode 0600) and removed at stop', async (t) => {
  const { dir, server } = await started({});
  t.is(fs.statSync(server.path).mode & 0o777, 0o600);
  await server.stop();
  t.false(fs.existsSync(path.join(dir, CONTROL_SOCKET)));
});

test('unknown commands, bad JSON and thrown errors are answered, not fatal', async (t) => {
  const { dir, server } = await started({
    boom: () => {
      throw new Error('no such thing');
    },
  });
  t.deepEqual(await controlRequest(dir, { cmd: 'nope' }), {
    ok: false,
    error: 'unknown command: nope',
  });
  t.deepEqual(await controlRequest(dir, { cmd: 'boom' }), { ok: false, error: 'no such thing' });
  t.deepEqual(await controlRequest(dir, { cmd: 'toString' }), {
    ok: false,
    error: 'unknown command: toString',
  });
  const raw = await new Promise<string>((resolve) => {
    const s = net.connect(server.path);
    s.setEncoding('utf8');
    s.once('data', (d: string) => {
      s.destroy();
      resolve(d);
    });
    s.write('{not json\n');
  });
  t.deepEqual(JSON.parse(raw), { ok: false, error: 'not JSON' });
  await server.stop();
});

test('no hub running: the client says so plainly', async (t) => {
  const dir = tempDir('babel-control-');
  const err = await t.throwsAsync(controlRequest(dir, { cmd: 'pair' }));
  t.true(err instanceof HubNotRunningError);
  t.regex(err?.message ?? '', /the hub is not running/);
});

test('a leftover socket file is replaced; a live one refuses a second hub', async (t) => {
  const dir = tempDir('babel-control-');
  // What a hub killed with SIGKILL leaves behind: the file, with nobody listening.
  fs.writeFileSync(path.join(dir, CONTROL_SOCKET), '');
  const first = new ControlServer(dir, { ping: () => ({}) }, testLog);
  await first.start();
  const second = new ControlServer(dir, {}, testLog);
  await t.throwsAsync(second.start(), { message: /another hub is running/ });
  t.deepEqual(await controlRequest(dir, { cmd: 'ping' }), { ok: true });
  await first.stop();
});
