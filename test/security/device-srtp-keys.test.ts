/**
 * [S-3, S-4] A real `babel-device` process over TLS to a scripted hub (the test's own TLS
 * server, pinned): it takes a call whose `106` carries SRTP keys and sends SRTP that
 * authenticates with `<send>`, never plain RTP; a `106` with a bad key ends the call with a
 * clear line and the process lives on; its trace-level log holds no key and no secret.
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

/** The leg statistics the device logged (every 5 s at trace, and at the leg's end). */
function legStats(device: DeviceProcess) {
  return device.logs
    .filter((r) => r.msg === 'media stats' || r.msg === 'call media')
    .map((r) => r.stats as { received: number; srtp: boolean; srtpAuthFailed: number });
}

const UUID = '0b5c2f3e-8a4e-4f7e-9d55-3c1f0d6a2b11';
const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/**
 * On both media loops (issue 15). The JS loop logs every packet at trace ('rtp'), the
 * native one nothing per packet: there the leg's statistics at its end ('call media') show
 * the peer's SRTP authenticated.
 */
for (const engine of ['js', 'native'] as const) {
  test(`a TLS device sends SRTP with <send>, refuses a bad key, and logs no key (${engine} loop)`, async (t) => {
    t.timeout(30_000);
    const cert = makeCert();
    const peer = dgram.createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    const peerPort = peer.address().port;
    const send = newMasterKey(); // protects what the device sends
    const recv = newMasterKey();
    const secret = 'door-secret-9c1e57aa';
    const answers = [
      `106 kitchen 127.0.0.1 ${peerPort} ${SUITE} ${send} ${recv}`,
      // A second call whose <recv> is no key: 29 bytes, and a key-looking prefix.
      `106 kitchen 127.0.0.1 ${peerPort} ${SUITE} ${newMasterKey()} ${Buffer.alloc(29, 9).toString('base64')}`,
    ];
    const keysSeen = [send, recv, answers[1]!.split(' ').at(-2)!, answers[1]!.split(' ').at(-1)!];
    const lines: string[] = [];
    let link: import('node:tls').TLSSocket | null = null;
    const front = await tlsFront(cert, {
      onLine: (line, s) => {
        link = s;
        lines.push(line);
        if (line.startsWith('CONNECT')) s.write(`101 ${UUID} door\r\n`);
        else if (line === 'PING') s.write('109\r\n');
        else if (line === 'ACCEPT kitchen') s.write(`${answers.shift()}\r\n`);
      },
    });
    const device = new DeviceProcess(
      'door',
      [
        ...['--hub', `tls://127.0.0.1:${front.port}`, '--hub-fingerprint', cert.fingerprint],
        ...['--secret', secret, '--media-port', '0', '--auto-answer', '--button', 'stdin'],
        ...['--capture', 'tone:1000', '--playback', 'null', '--log-level', 'trace'],
      ],
      undefined,
      { BABEL_DEVICE_AUDIO__ENGINE: engine },
    );
    const datagrams: Buffer[] = [];
    let devicePort = 0;
    peer.on('message', (m, rinfo) => {
      devicePort = rinfo.port;
      datagrams.push(m);
    });
    try {
      await device.waitFor(/connected to the hub as door/);
      (link as import('node:tls').TLSSocket | null)?.write('105 kitchen\r\n');
      await device.waitFor(/talking with kitchen/);
      while (datagrams.length < 20) await once(peer, 'message');
      // Every datagram authenticates with <send>; none is plain RTP of the tone.
      const rx = new SrtpReceiver(send);
      for (const d of datagrams.slice(0, 20)) {
        const clear = rx.unprotect(d);
        t.true(Buffer.isBuffer(clear), `an SRTP packet under <send> (${String(clear)})`);
        if (Buffer.isBuffer(clear)) t.is(parseRtp(clear)?.payloadType, 111);
      }
      const wrong = new SrtpReceiver(recv);
      t.is(wrong.unprotect(datagrams[20] ?? datagrams[0]!), 'auth', 'not under <recv>');
      // The way back: SRTP under <recv>, to the port the device sends from [M-2].
      const back = new MediaPipeline({
        remote: { address: '127.0.0.1', port: devicePort },
        srtp: { send: recv, recv: send },
      });
      for (let k = 0; k < 10; k++) {
        peer.send(back.captureFrame(toneFrame(500, k), k * 20)[0]!, devicePort, '127.0.0.1');
      }
      if (engine === 'js') await until(() => device.logs.some((r) => r.msg === 'rtp'), 5000);
      else await until(() => legStats(device).some((x) => x.received >= 10), 15_000);

      device.press(); // hang up
      await device.waitFor(/hung up on kitchen/);
      const before = device.events.length;
      (link as import('node:tls').TLSSocket | null)?.write('105 kitchen\r\n');
      await device.waitFor(/ended the call with kitchen: .*bad SRTP key/, 8000, before);
      t.is(lines.filter((l) => l === 'HANGUP kitchen').length >= 1, true);
      t.is(device.child.exitCode, null, 'still running');
    } finally {
      const code = await device.stop();
      t.is(code, 0);
      peer.close();
      await front.close();
    }
    const log = device.logs.map((r) => JSON.stringify(r)).join('\n');
    t.true(log.includes('"level":10'), 'the log is at trace');
    if (engine === 'js') {
      t.true(
        device.logs.some((r) => r.msg === 'rtp'),
        'the SRTP from the peer authenticated and reached the trace',
      );
    } else {
      t.true(
        legStats(device).some((x) => x.received >= 10 && x.srtp && x.srtpAuthFailed === 0),
        "the SRTP from the peer authenticated (the leg's statistics)",
      );
    }
    for (const key of keysSeen) t.false(log.includes(key), 'an SRTP key in the log');
    t.false(log.includes(secret), 'the secret in the log');
    t.true(lines.some((l) => l.startsWith('CONNECT door')));
  });
}
