/**
 * [S-4, G-2, G-3] A real `babel-device` process over TLS to a scripted hub (the test's own
 * TLS server, pinned): it plays a page (`111`) whose SRTP authenticates with `<recv>` and
 * sends nothing back; a call moved by a second `106` (fresh keys [G-3]) goes on in SRTP
 * under the new `<send>`, to the new address; its trace-level log holds no key.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import test from 'ava';
import { MediaPipeline } from '../../device/media/pipeline.ts';
import { parseRtp } from '../../device/media/rtp.ts';
import { newMasterKey, SrtpReceiver } from '../../protocol/srtp/index.ts';
import { DeviceProcess } from '../helpers/device.ts';
import { toneFrame, until } from '../helpers/media-session.ts';
import { makeCert, tlsFront } from '../helpers/tls-hub.ts';

const UUID = '0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11';
const SUITE = 'AES_CM_128_HMAC_SHA1_80';

async function udp() {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const got: Array<{ msg: Buffer; port: number }> = [];
  s.on('message', (msg, rinfo) => got.push({ msg, port: rinfo.port }));
  return { s, port: s.address().port, got };
}

/** The leg statistics the device logged (every 5 s at trace, and at the leg's end). */
function legStats(device: DeviceProcess) {
  return device.logs
    .filter((r) => r.msg === 'media stats' || r.msg === 'call media')
    .map((r) => r.stats as { received: number; srtp: boolean; srtpAuthFailed: number });
}

/**
 * On both media loops (issue 15): the JS loop logs every packet at trace ('rtp'), the
 * native one nothing per packet; there the leg's statistics show the page authenticated.
 */
for (const engine of ['js', 'native'] as const) {
  test(`a TLS device plays a page in SRTP, sends nothing back, moves a call to new keys, and logs no key (${engine} loop)`, async (t) => {
    t.timeout(90_000);
    const cert = makeCert();
    const relay = await udp();
    const direct = await udp();
    const moved = await udp();
    const page = { send: newMasterKey(), recv: newMasterKey() };
    const call1 = { send: newMasterKey(), recv: newMasterKey() };
    const call2 = { send: newMasterKey(), recv: newMasterKey() };
    const keys = [page, call1, call2].flatMap((k) => [k.send, k.recv]);
    let link: import('node:tls').TLSSocket | null = null;
    const write = (line: string) => link?.write(`${line}\r\n`);
    /** The device's media port, as its CONNECT declares it [T-9]. */
    let to = 0;
    const front = await tlsFront(cert, {
      onLine: (line, s) => {
        link = s;
        if (line.startsWith('CONNECT')) {
          to = Number(line.split(' ')[2]);
          s.write(`101 ${UUID} kitchen\r\n`);
        } else if (line === 'PING') s.write('109\r\n');
        else if (line === 'ACCEPT door')
          s.write(`106 door 127.0.0.1 ${direct.port} ${SUITE} ${call1.send} ${call1.recv}\r\n`);
      },
    });
    const device = new DeviceProcess(
      'kitchen',
      [
        ...['--hub', `tls://127.0.0.1:${front.port}`, '--hub-fingerprint', cert.fingerprint],
        ...['--secret', 'kitchen-secret-5e1f', '--media-port', '0', '--auto-answer'],
        ...['--capture', 'tone:1000', '--playback', 'null', '--log-level', 'trace'],
      ],
      undefined,
      { BABEL_DEVICE_AUDIO__ENGINE: engine },
    );
    try {
      await device.waitFor(/connected to the hub as kitchen/, 30_000);
      // [G-2] The page: the "relay" sends SRTP under the member's <recv>.
      write(`111 reception 127.0.0.1 ${relay.port} ${SUITE} ${page.send} ${page.recv}`);
      await device.waitFor(/reception is paging/, 15_000);
      const fromRelay = new MediaPipeline({
        remote: { address: '127.0.0.1', port: to },
        srtp: { send: page.recv, recv: page.send },
      });
      for (let k = 0; k < 25; k++)
        relay.s.send(fromRelay.captureFrame(toneFrame(700, k), k * 20)[0]!, to, '127.0.0.1');
      const taken =
        engine === 'js'
          ? () => device.logs.some((r) => r.msg === 'rtp')
          : () =>
              legStats(device).some((x) => x.received >= 20 && x.srtp && x.srtpAuthFailed === 0);
      await until(taken, 15_000);
      t.true(taken(), 'the page authenticated and was taken');
      t.is(relay.got.length, 0, 'a paged member sends nothing');
      write('107 reception ended');
      await device.waitFor(/page from reception ended/, 15_000);

      // [G-3] A call, then the hub moves it: a new 106 with fresh keys and a new address.
      write('105 door');
      await device.waitFor(/talking with door/, 15_000);
      await until(() => direct.got.length >= 5, 15_000);
      write(`106 door 127.0.0.1 ${moved.port} ${SUITE} ${call2.send} ${call2.recv}`);
      await device.waitFor(/the call with door now goes through the hub/, 15_000);
      await until(() => moved.got.length >= 10, 15_000);
      const rx = new SrtpReceiver(call2.send);
      for (const { msg } of moved.got.slice(0, 10)) {
        const clear = rx.unprotect(msg);
        t.true(Buffer.isBuffer(clear), `SRTP under the new <send> (${String(clear)})`);
        if (Buffer.isBuffer(clear)) t.is(parseRtp(clear)?.payloadType, 111);
      }
      t.is(new SrtpReceiver(call1.send).unprotect(moved.got[0]!.msg), 'auth', 'not the old key');
    } finally {
      t.is(await device.stop(), 0);
      for (const u of [relay, direct, moved]) u.s.close();
      await front.close();
    }
    const log = device.logs.map((r) => JSON.stringify(r)).join('\n');
    t.true(log.includes('"level":10'), 'the log is at trace');
    for (const key of keys) t.false(log.includes(key), 'an SRTP key in the log');
  });
}
