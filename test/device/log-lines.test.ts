/**
 * Issue 14: every log line of a real hub and a real device is JSON with each key once
 * (`"name":"babel-device","name":"door"` and `"mod":"button",...,"mod":"button"` were
 * read differently by jq and pino-pretty). Both run as processes, the device at debug
 * with a button, an LED and a door relay, registers, is pressed and stopped; every line
 * both wrote is parsed by a parser that refuses a repeated key.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import test from 'ava';
import YAML from 'yaml';
import { hangGuardMs } from '../helpers/hang-guard.ts';
import { spawnHubProcess, tempDir } from '../helpers/hub.ts';

const root = path.resolve(import.meta.dirname, '../..');

function repeatedKey(line: string): string | null {
  const doc = YAML.parseDocument(line, { uniqueKeys: true, version: '1.2' });
  return doc.errors.length > 0 ? doc.errors[0]!.message.split('\n')[0]! : null;
}

test('a real hub and device write no line with a repeated key', async (t) => {
  const dir = tempDir();
  const hub = await spawnHubProcess(['--text-port', '0', '--log-level', 'debug'], dir);
  const config = path.join(dir, 'door.yaml');
  fs.writeFileSync(config, 'led: fake\ndoor:\n  relay: fake\ntarget: kitchen\n');
  const device = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'device/bin.ts'),
      ...['--config', config, '--name', 'door', '--hub', `127.0.0.1:${hub.textPort}`],
      ...['--capture', 'silence', '--playback', 'null', '--button', 'stdin', '--mqtt', 'off'],
      ...['--media-port', '0', '--state-dir', path.join(dir, 'door'), '--log-level', 'debug'],
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  readline.createInterface({ input: device.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => device.once('exit', resolve));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${re} in: ${lines.join('\n')}`)),
        hangGuardMs(30_000),
      );
      const check = () => {
        if (!lines.some((l) => re.test(l))) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  try {
    await waitFor(/registered with the hub/);
    await waitFor(/device started/);
    device.stdin.write('press\n');
    await waitFor(/"mod":"button"/);
    await waitFor(/kitchen/);
  } finally {
    device.kill('SIGTERM');
    await exited;
    await hub.kill('SIGTERM');
  }
  t.true(lines.length > 10 && hub.lines.length > 5);
  for (const line of [...lines, ...hub.lines]) t.is(repeatedKey(line), null, line);
  const started = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(started.some((r) => r.msg === 'device started'));
});
