/**
 * Calls in the text dialect over real TCP: `CALL`, `ACCEPT`, `HANGUP`, `CALLED`, every
 * `107` reason [T-10], every `404` failure, and the media addresses of `106` [T-9],
 * including a relay that really forwards RTP [M-4].
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { startHub, type TestHub } from '../../helpers/hub.ts';
import { connectedClient, TextClient } from '../../helpers/text-client.ts';

async function withHub(argv: string[], body: (h: TestHub) => Promise<void>): Promise<void> {
  const h = await startHub(argv);
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

/** Alice calls bob and bob answers; both `106` lines are checked by the caller. */
async function ring(alice: TextClient, bob: TextClient): Promise<void> {
  const r = await alice.request('CALL bob');
  if (r !== '104 bob') throw new Error(`CALL bob: ${r}`);
  const e = await bob.next();
  if (e !== '105 alice') throw new Error(`bob heard: ${e}`);
}

/** A text client on a chosen local address, to see that `106` carries the TCP source IP. */
class ClientFrom {
  readonly socket: net.Socket;
  readonly #lines: string[] = [];
  #buf = '';

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buf += chunk;
      const parts = this.#buf.split('\r\n');
      this.#buf = parts.pop() ?? '';
      this.#lines.push(...parts);
      socket.emit('line');
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, localAddress: string): Promise<ClientFrom> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    await once(socket, 'connect');
    return new ClientFrom(socket);
  }

  async request(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.next();
  }

  async next(ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      if (Date.now() > deadline || this.socket.destroyed) throw new Error('no line');
      await Promise.race([once(this.socket, 'line'), new Promise((r) => setTimeout(r, 50))]);
    }
    return this.#lines.shift()!;
  }

  close(): void {
    this.socket.destroy();
  }
}

// --- CALL, ACCEPT, HANGUP, CALLED: the happy path ----------------------------------------

test('[T-5 table] CALL: 104 to the caller, 105 to the callee; ACCEPT: 106 to both', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('CALLED alice'), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request('USERS'), '103 alice:in_call bob:in_call');
    alice.close();
    bob.close();
  });
});

test("[T-2, T-4] CALL, ACCEPT and HANGUP take any notation and case of the peer's name", async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    t.is(await alice.request("call ['BOB']"), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('called "Alice"'), '105 alice');
    t.is(await bob.request('accept ALICE'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request("hangup ['Bob']"), '107 bob ended');
    t.is(await bob.next(), '107 alice ended');
    alice.close();
    bob.close();
  });
});

// --- T-10: every 107 reason ---------------------------------------------------------------

test('[T-10] ended: HANGUP in a call, by the caller', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await alice.request('HANGUP bob'), '107 bob ended');
    t.is(await bob.next(), '107 alice ended');
    t.is(await bob.request('USERS'), '103 alice:idle bob:idle');
    alice.close();
    bob.close();
  });
});

test('[T-10] ended: HANGUP in a call, by the callee', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await bob.request('HANGUP alice'), '107 alice ended');
    t.is(await alice.next(), '107 bob ended');
    alice.close();
    bob.close();
  });
});

test('[T-10] declined: the callee hangs up while ringing', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await bob.request('HANGUP alice'), '107 alice declined');
    t.is(await alice.next(), '107 bob declined');
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call');
    t.is(await alice.request('USERS'), '103 alice:idle bob:idle');
    alice.close();
    bob.close();
  });
});

test('[T-10] cancelled: the caller hangs up while ringing', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await alice.request('HANGUP bob'), '107 bob cancelled');
    t.is(await bob.next(), '107 alice cancelled');
    t.is(await bob.request('CALLED alice'), '404 alice no_call');
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call');
    alice.close();
    bob.close();
  });
});

test('[T-10] timeout: nobody answers within the ring timeout (--ring-timeout 1)', async (t) => {
  await withHub(['--ring-timeout', '1'], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await alice.next(5000), '107 bob timeout');
    t.is(await bob.next(5000), '107 alice timeout');
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call');
    t.is(await alice.request('USERS'), '103 alice:idle bob:idle');
    // Both may call again at once.
    t.is(await bob.request('CALL alice'), '104 alice');
    t.is(await alice.next(), '105 bob');
    alice.close();
    bob.close();
  });
});

test('[T-10] an answered call does not time out', async (t) => {
  await withHub(['--ring-timeout', '1'], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    await ring(alice, bob);
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    // Past the ring timeout, nothing arrives and the call is still up.
    t.true(await alice.quiet(1500));
    t.is(await alice.request('USERS'), '103 alice:in_call bob:in_call');
    alice.close();
    bob.close();
  });
});

for (const [who, phase] of [
  ['callee', 'ringing'],
  ['caller', 'ringing'],
  ['callee', 'in a call'],
  ['caller', 'in a call'],
] as const) {
  test(`[T-10] disconnected: the ${who}'s connection is lost ${phase}`, async (t) => {
    await withHub([], async ({ hub }) => {
      const alice = await connectedClient(hub.textPort, 'alice', 5004);
      const bob = await connectedClient(hub.textPort, 'bob', 6006);
      await ring(alice, bob);
      if (phase === 'in a call') {
        t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
        t.is(await alice.next(), '106 bob 127.0.0.1 6006');
      }
      const [gone, left, goneName] =
        who === 'callee' ? [bob, alice, 'bob'] : ([alice, bob, 'alice'] as const);
      gone.close();
      t.is(await left.next(), `107 ${goneName} disconnected`);
      const users = who === 'callee' ? '103 alice:idle bob:offline' : '103 alice:offline bob:idle';
      t.is(await left.request('USERS'), users);
      left.close();
    });
  });
}

// --- 404 failures --------------------------------------------------------------------------

test('[T-5 table] CALL failures: unknown, invalid, offline, self', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    t.is(await alice.request('NEW dave'), '108 dave');
    t.is(await alice.request('CALL nobody'), '404 nobody unknown');
    t.is(await alice.request('CALL NoBody'), '404 nobody unknown');
    t.is(await alice.request('CALL -bad'), '404 -bad unknown');
    t.is(await alice.request('CALL "two words"'), '404 - unknown');
    t.is(await alice.request(`CALL ${'q'.repeat(40)}`), `404 ${'q'.repeat(40)} unknown`);
    t.is(await alice.request('CALL dave'), '404 dave offline');
    t.is(await alice.request('CALL alice'), '404 alice self');
    t.is(await alice.request('CALL ALICE'), '404 alice self');
    t.is(await alice.request('USERS'), '103 alice:idle dave:offline');
    alice.close();
  });
});

test('[T-5 table] CALL of a ringing callee gets busy; of anyone while ringing out, in_call', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    const carol = await connectedClient(hub.textPort, 'carol', 7007);
    await ring(alice, bob);
    t.is(await carol.request('CALL bob'), '404 bob busy'); // bob is ringing
    t.is(await carol.request('CALL alice'), '404 alice busy'); // alice is calling
    t.is(await alice.request('CALL carol'), '404 carol in_call'); // alice is calling
    t.is(await alice.request('CALL bob'), '404 bob in_call');
    t.is(await bob.request('CALL carol'), '404 carol in_call'); // bob is ringing
    t.is(await alice.request('CALL alice'), '404 alice self');
    // Nobody else heard anything, and the first call is intact.
    t.true(await carol.quiet(100));
    t.is(await bob.request('CALLED alice'), '105 alice');
    alice.close();
    bob.close();
    carol.close();
  });
});

test('[T-5 table] CALL of a user in a call gets busy; from a user in a call, in_call', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    const carol = await connectedClient(hub.textPort, 'carol', 7007);
    await ring(alice, bob);
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await carol.request('CALL alice'), '404 alice busy');
    t.is(await carol.request('CALL bob'), '404 bob busy');
    t.is(await bob.request('CALL carol'), '404 carol in_call');
    t.true(await carol.quiet(100));
    t.is(await carol.request('USERS'), '103 alice:in_call bob:in_call carol:idle');
    alice.close();
    bob.close();
    carol.close();
  });
});

test('[T-5 table] ACCEPT without a call ringing from that caller gets 404 <caller> no_call', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    const carol = await connectedClient(hub.textPort, 'carol', 7007);
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call'); // nothing rings
    t.is(await bob.request('ACCEPT ghost'), '404 ghost no_call'); // unknown name
    t.is(await bob.request('ACCEPT -x'), '404 -x no_call'); // invalid name, echoed
    t.is(await bob.request('ACCEPT "a b"'), '404 - no_call'); // cannot be echoed
    await ring(alice, bob);
    t.is(await bob.request('ACCEPT carol'), '404 carol no_call'); // another caller
    t.is(await alice.request('ACCEPT bob'), '404 bob no_call'); // the caller cannot accept
    t.is(await carol.request('ACCEPT alice'), '404 alice no_call'); // not rung here
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await bob.request('ACCEPT alice'), '404 alice no_call'); // already answered
    alice.close();
    bob.close();
    carol.close();
  });
});

test('[T-5 table] HANGUP without a call with that peer gets 404 <peer> no_call', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    const carol = await connectedClient(hub.textPort, 'carol', 7007);
    t.is(await alice.request('HANGUP bob'), '404 bob no_call');
    t.is(await alice.request('HANGUP ghost'), '404 ghost no_call');
    t.is(await alice.request('HANGUP "a b"'), '404 - no_call');
    await ring(alice, bob);
    t.is(await alice.request('HANGUP carol'), '404 carol no_call');
    t.is(await carol.request('HANGUP alice'), '404 alice no_call');
    t.is(await alice.request('HANGUP alice'), '404 alice no_call');
    // None of that touched the call.
    t.is(await bob.request('CALLED alice'), '105 alice');
    t.is(await alice.request('HANGUP bob'), '107 bob cancelled');
    t.is(await bob.next(), '107 alice cancelled');
    t.is(await alice.request('HANGUP bob'), '404 bob no_call');
    alice.close();
    bob.close();
    carol.close();
  });
});

test('[T-5 table] CALLED answers 105 <caller> only while that call rings here', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await connectedClient(hub.textPort, 'bob', 6006);
    t.is(await bob.request('CALLED alice'), '404 alice no_call');
    await ring(alice, bob);
    t.is(await bob.request('CALLED alice'), '105 alice');
    t.is(await bob.request('CALLED ALICE'), '105 alice');
    t.is(await bob.request('CALLED carol'), '404 carol no_call');
    t.is(await bob.request('CALLED "x y"'), '404 - no_call');
    t.is(await alice.request('CALLED bob'), '404 bob no_call'); // the caller side
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.1 5004');
    t.is(await alice.next(), '106 bob 127.0.0.1 6006');
    t.is(await bob.request('CALLED alice'), '404 alice no_call'); // answered: no longer rings
    alice.close();
    bob.close();
  });
});

// --- T-9: media addresses ------------------------------------------------------------------

test("[T-9] direct: 106 carries the peer's TCP source IP and declared port", async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await ClientFrom.connect(hub.textPort, '127.0.0.2');
    const bob = await ClientFrom.connect(hub.textPort, '127.0.0.3');
    t.is(await alice.request('NEW alice'), '108 alice');
    t.is(await bob.request('NEW bob'), '108 bob');
    t.regex(await alice.request('CONNECT alice 5004'), /^101 /);
    t.regex(await bob.request("CONNECT ['bob', '6006']"), /^101 /);
    t.is(await alice.request('CALL bob'), '104 bob');
    t.is(await bob.next(), '105 alice');
    t.is(await bob.request('ACCEPT alice'), '106 alice 127.0.0.2 5004');
    t.is(await alice.next(), '106 bob 127.0.0.3 6006');
    t.is(hub.relay.stats.openLegs, 0);
    alice.close();
    bob.close();
  });
});

/** An RTP version 2 packet, payload type 111 [M-1], with `payload` after the header. */
function rtp(seq: number, payload: string): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 111;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(seq * 960, 4);
  header.writeUInt32BE(0x1234abcd, 8);
  return Buffer.concat([header, Buffer.from(payload)]);
}

async function udpSocket(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

/** The next datagram on `s`, or an error after `ms`. */
function receive(s: dgram.Socket, ms = 2000): Promise<{ msg: Buffer; from: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('message', onMessage);
      reject(new Error('no datagram'));
    }, ms);
    const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      clearTimeout(timer);
      resolve({ msg, from: `${rinfo.address}:${rinfo.port}` });
    };
    s.once('message', onMessage);
  });
}

/** The `<ip> <port>` of a `106 <peer> <ip> <port>` line. */
function mediaOf(line: string | null, peer: string): { ip: string; port: number } {
  const m = /^106 (\S+) (\S+) (\d+)$/.exec(line ?? '');
  if (!m || m[1] !== peer) throw new Error(`not a 106 for ${peer}: ${line}`);
  return { ip: m[2]!, port: Number(m[3]) };
}

test('[T-9, M-4] --relay always: 106 carries relay addresses that forward RTP both ways', async (t) => {
  await withHub(['--relay', 'always'], async ({ hub }) => {
    const aliceUdp = await udpSocket();
    const bobUdp = await udpSocket();
    const alice = await connectedClient(hub.textPort, 'alice', aliceUdp.address().port);
    const bob = await connectedClient(hub.textPort, 'bob', bobUdp.address().port);
    try {
      await ring(alice, bob);
      const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
      const forAlice = mediaOf(await alice.next(), 'bob');
      t.is(forAlice.ip, '127.0.0.1');
      t.is(forBob.ip, '127.0.0.1');
      t.not(forAlice.port, aliceUdp.address().port);
      t.not(forBob.port, bobUdp.address().port);
      t.not(forAlice.port, forBob.port);

      // Alice -> relay -> bob, arriving from bob's relay address (symmetric).
      const atBob = receive(bobUdp);
      aliceUdp.send(rtp(1, 'hello bob'), forAlice.port, forAlice.ip);
      const got = await atBob;
      t.deepEqual(got.msg, rtp(1, 'hello bob'));
      t.is(got.from, `${forBob.ip}:${forBob.port}`);

      // Bob -> relay -> alice, arriving from alice's relay address.
      const atAlice = receive(aliceUdp);
      bobUdp.send(rtp(7, 'hello alice'), forBob.port, forBob.ip);
      const back = await atAlice;
      t.deepEqual(back.msg, rtp(7, 'hello alice'));
      t.is(back.from, `${forAlice.ip}:${forAlice.port}`);

      t.is(hub.relay.stats.openLegs, 2);
      t.is(await alice.request('HANGUP bob'), '107 bob ended');
      t.is(await bob.next(), '107 alice ended');
      t.is(hub.relay.stats.openLegs, 0);
    } finally {
      aliceUdp.close();
      bobUdp.close();
      alice.close();
      bob.close();
    }
  });
});

test('[T-9, M-4] media port 0: the hub relays, latching the source of the first packet', async (t) => {
  await withHub([], async ({ hub }) => {
    const aliceUdp = await udpSocket(); // alice declares no port: 0
    const bobUdp = await udpSocket();
    const alice = await connectedClient(hub.textPort, 'alice', 0);
    const bob = await connectedClient(hub.textPort, 'bob', bobUdp.address().port);
    try {
      await ring(alice, bob);
      const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
      const forAlice = mediaOf(await alice.next(), 'bob');
      t.is(forAlice.ip, '127.0.0.1');
      t.true(forAlice.port > 0);
      t.true(forBob.port > 0);
      t.not(forAlice.port, forBob.port);

      const atBob = receive(bobUdp);
      aliceUdp.send(rtp(1, 'from alice'), forAlice.port, forAlice.ip);
      const got = await atBob;
      t.deepEqual(got.msg, rtp(1, 'from alice'));
      t.is(got.from, `${forBob.ip}:${forBob.port}`);

      // The relay learnt alice's port from her first packet.
      const atAlice = receive(aliceUdp);
      bobUdp.send(rtp(2, 'from bob'), forBob.port, forBob.ip);
      const back = await atAlice;
      t.deepEqual(back.msg, rtp(2, 'from bob'));
      t.is(back.from, `${forAlice.ip}:${forAlice.port}`);

      // [M-4] A packet from another IP on alice's leg is not forwarded.
      const stranger = await udpSocket('127.0.0.9');
      const forwarded = hub.relay.stats.forwarded;
      stranger.send(rtp(3, 'intruder'), forAlice.port, forAlice.ip);
      await t.throwsAsync(receive(bobUdp, 300));
      t.is(hub.relay.stats.forwarded, forwarded);
      stranger.close();
    } finally {
      aliceUdp.close();
      bobUdp.close();
      alice.close();
      bob.close();
    }
  });
});

test('[T-9] CONNECT without a media port means port 0: the call is relayed', async (t) => {
  await withHub([], async ({ hub }) => {
    const alice = await connectedClient(hub.textPort, 'alice', 5004);
    const bob = await hubClientWithoutPort(hub.textPort, 'bob');
    await ring(alice, bob);
    const forBob = mediaOf(await bob.request('ACCEPT alice'), 'alice');
    const forAlice = mediaOf(await alice.next(), 'bob');
    t.not(forBob.port, 5004);
    t.not(forAlice.port, forBob.port);
    t.is(hub.relay.stats.openLegs, 2);
    bob.close();
    t.is(await alice.next(), '107 bob disconnected');
    t.is(hub.relay.stats.openLegs, 0);
    alice.close();
  });
});

async function hubClientWithoutPort(port: number, name: string): Promise<TextClient> {
  const c = await TextClient.connect(port);
  if ((await c.request(`NEW ${name}`)) !== `108 ${name}`) throw new Error('NEW');
  if (!(await c.request(`CONNECT ${name}`))?.startsWith('101 ')) throw new Error('CONNECT');
  return c;
}
