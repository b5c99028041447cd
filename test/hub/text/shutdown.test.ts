/**
 * Stopping the hub, as SIGTERM does, seen from text clients: every call ends `107 <peer>
 * ended` for both parties before their connections close [T-10; interfaces: SIGTERM].
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { SEED_ENV, startHub, tempDir } from '../../helpers/hub.ts';
import { loopbackHubArgs } from '../../helpers/hub-launch.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** All the lines a client gets until the hub closes it (bounded). */
async function rest(c: TextClient, ms = 5000): Promise<string[]> {
  const lines: string[] = [];
  for (let line = await c.next(ms); line !== null; line = await c.next(ms)) lines.push(line);
  return lines;
}

test('[T-10] hub.stop() during a call: 107 <peer> ended to both, then the hub closes them', async (t) => {
  const h = await startHub();
  const alice = await connectedClient(h.hub.textPort, 'alice', 5004);
  const bob = await connectedClient(h.hub.textPort, 'bob', 6006);
  const carol = await connectedClient(h.hub.textPort, 'carol', 7007);
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
  t.is(await alice.next(), '106 bob 127.0.0.1 6006');
  const stopped = h.stop();
  const [aliceLines, bobLines, carolLines] = await Promise.all([
    rest(alice),
    rest(bob),
    rest(carol),
  ]);
  await stopped;
  t.deepEqual(aliceLines, ['107 bob ended']);
  t.deepEqual(bobLines, ['107 alice ended']);
  t.deepEqual(carolLines, []); // not in a call: just closed
  t.true(alice.closed && bob.closed && carol.closed);
});

test('[T-10] hub.stop() while a call rings: both parties hear 107 <peer> ended', async (t) => {
  const h = await startHub();
  const alice = await connectedClient(h.hub.textPort, 'alice', 5004);
  const bob = await connectedClient(h.hub.textPort, 'bob', 6006);
  t.is(await alice.request('CALL bob'), '104 bob');
  t.is(await bob.next(), '105 alice');
  const stopped = h.stop();
  const [aliceLines, bobLines] = await Promise.all([rest(alice), rest(bob)]);
  await stopped;
  t.deepEqual(aliceLines, ['107 bob ended']);
  t.deepEqual(bobLines, ['107 alice ended']);
});

test('hub.stop() closes idle text connections, before and after CONNECT, and refuses new ones', async (t) => {
  const h = await startHub();
  const port = h.hub.textPort;
  const anon = await TextClient.connect(port);
  const alice = await connectedClient(port, 'alice');
  await h.stop();
  t.deepEqual(await rest(anon), []);
  t.deepEqual(await rest(alice), []);
  await t.throwsAsync(TextClient.connect(port));
});

test('[T-10] SIGTERM to babel-hub during a call: 107 <peer> ended to both, exit code 0', async (t) => {
  const child = spawn(
    process.execPath,
    ['--import=tsx', path.join(ROOT, 'hub/bin.ts'), ...loopbackHubArgs(tempDir())],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...SEED_ENV } },
  );
  try {
    // The bound port is in the `hub listening` log line.
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`hub did not start: ${out}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /"textPort":(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', () => reject(new Error(`hub exited: ${out}`)));
    });
    const alice = await connectedClient(port, 'alice', 5004);
    const bob = await connectedClient(port, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [aliceLines, bobLines] = await Promise.all([rest(alice), rest(bob)]);
    t.deepEqual(aliceLines, ['107 bob ended']);
    t.deepEqual(bobLines, ['107 alice ended']);
    const [code] = await exited;
    t.is(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
