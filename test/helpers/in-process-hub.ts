import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { binaryHandler } from '../../hub/binary/connection.ts';
import type { HubConfig } from '../../hub/config-schema.ts';
import { buildContext, type ConnectionLimits, type HubContext } from '../../hub/context.ts';
import { CallCore } from '../../hub/core/call-core.ts';
import type { Handle, PeerAddress } from '../../hub/net/address.ts';
import { secureHandle, serverContext } from '../../hub/net/tls.ts';
import { UdpRelay } from '../../hub/relay/relay.ts';
import type { Access } from '../../hub/security/access.ts';
import { AccountStore } from '../../hub/store/accounts.ts';
import { openDatabase } from '../../hub/store/db.ts';
import { textHandler } from '../../hub/text/connection.ts';
import { type HubIdentity, loadIdentity } from '../../hub/tls/identity.ts';
import { FakeClock } from '../../shared/clock.ts';
import { duplexPair } from './duplex-pair.ts';
import { SEED_ENV, seedIdentity, tempDir, testConfig } from './hub.ts';
import { testLog } from './log.ts';

/**
 * Opens a connection to one dialect of an in-process hub: the client's end of a pipe, or
 * with `secure` a TLS client socket over it, the hub's end served inside TLS by the same
 * code as its TLS listeners [S-1].
 */
export interface Dialer {
  readonly secure: boolean;
  connect(peer?: Partial<Omit<PeerAddress, 'secure'>>): Duplex;
}

/** The two transports every protocol table runs over [S-1]. */
export const TRANSPORTS = ['plain', 'tls'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * A hub without listeners: the call core, accounts and relay of `Hub.start`, and the two
 * dialect adapters, each connection an in-process duplex pair instead of a TCP socket. Time
 * is a `FakeClock`: ring and idle timeouts fire when the test advances it.
 */
export interface InProcessHub {
  readonly text: Dialer;
  readonly binary: Dialer;
  /** The same dialects inside TLS [S-1]. */
  readonly textTls: Dialer;
  readonly binaryTls: Dialer;
  /** [S-2] The hub's certificate and key (made in its data directory). */
  readonly identity: HubIdentity;
  /** A dialect over one transport: `dialer('text', 'tls')` is `textTls`. */
  dialer(dialect: 'text' | 'binary', transport: Transport): Dialer;
  readonly core: CallCore;
  readonly accounts: AccountStore;
  readonly relay: UdpRelay;
  /** Registration, pairing window, login throttle, pre-login caps [S-6..S-8]. */
  readonly access: Access;
  /** What the adapters share, for tests that hand them their own streams. */
  readonly ctx: HubContext;
}

export interface TestHubInProcess {
  hub: InProcessHub;
  clock: FakeClock;
  config: HubConfig;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts an in-process hub, configured as `startHub` configures a real one (environment:
 * the seed protocols' by default, see `SEED_ENV`).
 */
export async function startHubInProcess(
  argv: string[] = [],
  limits: Partial<ConnectionLimits> = {},
  dataDir = tempDir(),
  env: NodeJS.ProcessEnv = SEED_ENV,
  log: Logger = testLog,
): Promise<TestHubInProcess> {
  const config = testConfig(argv, dataDir, env);
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
  const ctx = buildContext({ config, core, accounts, clock, log, limits });
  await seedIdentity(config.data_dir);
  const identity = await loadIdentity(config);
  const context = serverContext(identity);
  const open = new Set<Duplex>();
  let nextPort = 40_000;
  const dialer = (plainHandle: Handle, secure: boolean): Dialer => {
    const handle = secure ? secureHandle(plainHandle, context, log) : plainHandle;
    return {
      secure,
      connect(peer = {}) {
        const [client, server] = duplexPair();
        open.add(server);
        server.once('close', () => open.delete(server));
        handle(server, {
          address: peer.address ?? '127.0.0.1',
          port: peer.port ?? nextPort++,
          localAddress: peer.localAddress ?? '127.0.0.1',
          secure: false,
        });
        if (!secure) return client;
        // Trusts exactly the hub's certificate, as a pinned client does [S-3].
        const socket = tls.connect({
          socket: client,
          ca: identity.cert,
          checkServerIdentity: () => undefined,
        });
        socket.once('close', () => client.destroy());
        return socket;
      },
    };
  };
  const text = textHandler(ctx);
  const binary = binaryHandler(ctx);
  const dialers = {
    text: dialer(text, false),
    binary: dialer(binary, false),
    textTls: dialer(text, true),
    binaryTls: dialer(binary, true),
  };
  const hub: InProcessHub = {
    ...dialers,
    identity,
    dialer: (dialect, transport) =>
      dialers[`${dialect}${transport === 'tls' ? 'Tls' : ''}` as keyof typeof dialers],
    core,
    accounts,
    relay,
    access: ctx.access,
    ctx,
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
