/**
 * Input from the hub is input too. A hub (or whoever took its place) sends a device a
 * `106` whose media address cannot be used: a port out of range, zero, negative or not a
 * number, or a host name where an IP literal belongs. The device refuses it with a warn,
 * hangs the call up (`HANGUP <peer>`) and stays idle and alive; it never starts a media
 * leg to that address, so it never sends to (or looks up) a name. Over a real TCP socket,
 * against the in-process agent and a real `babel-device` process.
 */
import { EventEmitter, once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DeviceAgent } from '../../device/agent.ts';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { captureLog } from '../device/capture-log.ts';
import { DeviceProcess } from '../helpers/device.ts';

const UUID = '0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11';

/**
 * A hub that registers anyone and, for each `ACCEPT kitchen`, answers with the `106` line
 * the test queued; it records every line the device sends.
 */
async function hostileHub() {
  const lines: string[] = [];
  const seen = new EventEmitter<{ line: [string] }>();
  let client: net.Socket | null = null;
  const answers: string[] = [];
  const server = net.createServer((s) => {
    client = s;
    let buffered = '';
    s.on('data', (d) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i).trim();
        buffered = buffered.slice(i + 1);
        lines.push(line);
        if (line.startsWith('CONNECT')) s.write(`101 ${UUID} door\r\n`);
        else if (line === 'PING') s.write('109\r\n');
        else if (line === 'ACCEPT kitchen') s.write(`${answers.shift()}\r\n`);
        seen.emit('line', line);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    /** Rings the device from `kitchen`; its auto-answer gets `answer` back. */
    ring(answer: string) {
      answers.push(answer);
      client?.write('105 kitchen\r\n');
    },
    async received(line: string, n: number) {
      while (lines.filter((l) => l === line).length < n) await once(seen, 'line');
    },
    close() {
      client?.destroy();
      server.close();
    },
  };
}

const BAD = [
  ['106 kitchen 127.0.0.1 70000', 'port out of range 1-65535'],
  ['106 kitchen 127.0.0.1 0', 'port out of range 1-65535'],
  ['106 kitchen 127.0.0.1 -5004', 'port is not a number'],
  ['106 kitchen 127.0.0.1 five', 'port is not a number'],
  ['106 kitchen 127.0.0.1', 'port is not a number'],
  ['106 kitchen no-such-host.invalid 5004', 'address is not an IPv4 literal'],
  ['106 kitchen localhost 5004', 'address is not an IPv4 literal'],
] as const;

test('in-process agent: every malformed 106 is refused with a warn and the call hung up', async (t) => {
  const hub = await hostileHub();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-sec-'));
  const { log, records } = captureLog();
  const loaded = loadDeviceConfig(
    [
      '--name',
      'door',
      '--hub',
      `127.0.0.1:${hub.port}`,
      '--media-port',
      '0',
      '--capture',
      'silence',
      '--playback',
      'null',
      '--mqtt',
      'off',
      '--auto-answer',
      '--state-dir',
      stateDir,
    ],
    {},
  );
  if (loaded.kind !== 'config') return t.fail(loaded.kind);
  const agent = await DeviceAgent.start(loaded.config, { log });
  try {
    // Registered: the agent says so once the hub answered CONNECT.
    while (!agent.machine.online) await new Promise((r) => setTimeout(r, 10));
    let n = 0;
    for (const [line, reason] of BAD) {
      n++;
      hub.ring(line);
      await hub.received('HANGUP kitchen', n);
      t.is(agent.machine.state, 'idle', line);
      t.is(agent.mediaStats, null, `${line}: no media leg was started`);
      t.true(
        records.some(
          (r) =>
            r.level === 40 &&
            r.msg === 'refused a media address from the hub' &&
            r.reason === reason,
        ),
        `${line}: warned (${reason})`,
      );
    }
    // Still a working device: a good 106 starts the call's media.
    hub.ring('106 kitchen 127.0.0.1 5004');
    while (agent.machine.state !== 'in_call') await new Promise((r) => setTimeout(r, 10));
    t.not(agent.mediaStats, null);
    t.is(hub.lines.filter((l) => l === 'HANGUP kitchen').length, BAD.length);
  } finally {
    await agent.stop();
    hub.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a real babel-device process: a 106 with port 70000 ends the call, the process lives on', async (t) => {
  const hub = await hostileHub();
  const device = new DeviceProcess('door', [
    '--hub',
    `127.0.0.1:${hub.port}`,
    '--media-port',
    '0',
    '--capture',
    'tone:440',
    '--playback',
    'null',
    '--auto-answer',
  ]);
  try {
    await device.waitFor(/connected to the hub as door/, 20_000);
    hub.ring('106 kitchen 127.0.0.1 70000');
    await hub.received('HANGUP kitchen', 1);
    await device.waitFor(/ended the call with kitchen: bad media address \(port out of range/);
    hub.ring('106 kitchen www.example.com 5004');
    await hub.received('HANGUP kitchen', 2);
    await device.waitFor(/bad media address \(address is not an IPv4 literal\)/);
    t.is(device.child.exitCode, null, 'still running');
    t.false(device.events.some((e) => /talking with kitchen/.test(e)));
  } finally {
    const code = await device.stop();
    hub.close();
    t.is(code, 0, device.events.join(' | '));
  }
});
