import path from 'node:path';
import type { Duplex } from 'node:stream';
import { binaryHandler } from '../../hub/binary/connection.ts';
import type { HubConfig } from '../../hub/config-schema.ts';
import { type ConnectionLimits, DEFAULT_LIMITS, type HubContext } from '../../hub/context.ts';
import { CallCore } from '../../hub/core/call-core.ts';
import type { Handle, PeerAddress } from '../../hub/net/address.ts';
import { UdpRelay } from '../../hub/relay/relay.ts';
import { AccountStore } from '../../hub/store/accounts.ts';
import { openDatabase } from '../../hub/store/db.ts';
import { textHandler } from '../../hub/text/connection.ts';
import { FakeClock } from '../../shared/clock.ts';
import { duplexPair } from './duplex-pair.ts';
import { tempDir, testConfig } from './hub.ts';
import { testLog } from './log.ts';

/** Opens a connection to one dialect of an in-process hub: the client's end of a pipe. */
export interface Dialer {
  connect(peer?: Partial<PeerAddress>): Duplex;
}

/**
 * A hub without listeners: the call core, accounts and relay of `Hub.start`, and the two
 * dialect adapters, each connection an in-process duplex pair instead of a TCP socket. Time
 * is a `FakeClock`: ring and idle timeouts fire when the test advances it.
 */
export interface InProcessHub {
  readonly text: Dialer;
  readonly binary: Dialer;
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly relay: UdpRelay;
}

export interface TestHubInProcess {
  hub: InProcessHub;
  clock: FakeClock;
  config: HubConfig;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts an in-process hub, configured as `startHub` configures a real one. */
export async function startHubInProcess(
  argv: string[] = [],
  limits: Partial<ConnectionLimits> = {},
  dataDir = tempDir(),
): Promise<TestHubInProcess> {
  const config = testConfig(argv, dataDir);
  const log = testLog;
  const clock = new FakeClock();
  const accounts = new AccountStore(openDatabase(path.join(config.data_dir, 'babel.sqlite')));
  const relay = new UdpRelay({ bindHost: config.host, log });
  const core = new CallCore({
    clock,
    log,
    ringTimeoutMs: config.ring_timeout * 1000,
    relayMode: config.relay,
    relay,
  });
  const ctx: HubContext = {
    core,
    accounts,
    clock,
    log,
    limits: {
      ...DEFAULT_LIMITS,
      idleTimeoutMs: config.idle_timeout * 1000,
      maxFrame: config.max_frame,
      registration: config.registration,
      ...limits,
    },
  };
  const open = new Set<Duplex>();
  let nextPort = 40_000;
  const dialer = (handle: Handle): Dialer => ({
    connect(peer = {}) {
      const [client, server] = duplexPair();
      open.add(server);
      server.once('close', () => open.delete(server));
      handle(server, {
        address: peer.address ?? '127.0.0.1',
        port: peer.port ?? nextPort++,
        localAddress: peer.localAddress ?? '127.0.0.1',
      });
      return client;
    },
  });
  const hub: InProcessHub = {
    text: dialer(textHandler(ctx)),
    binary: dialer(binaryHandler(ctx)),
    core,
    accounts,
    relay,
  };
  return {
    hub,
    clock,
    config,
    dataDir,
    async stop() {
      core.endAll();
      for (const s of open) s.destroy();
      accounts.close();
    },
  };
}
