/**
 * `babel-hub fingerprint [--config FILE | --data-dir DIR]` [S-2]: the hub certificate's
 * `sha256:<64 lowercase hex>`, alone on a line, for pinning devices [S-3]. Needs no
 * running hub: it reads the identity the hub uses (the config's `tls.cert`, or the one in
 * the data directory), making it there first if the hub never ran, as the hub would.
 */
import { subcommandConfig } from '../subcommand-config.ts';
import { loadIdentity, type RunOpenssl, runOpenssl } from './identity.ts';

const USAGE = `usage: babel-hub fingerprint [--config FILE] [--data-dir DIR]
Prints the SHA-256 fingerprint of the hub's TLS certificate (sha256:<hex>), to compare
with what a device logs or to pin it (--hub-fingerprint). Run it as the hub's user.
`;

export interface FingerprintIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Exit codes: 0 printed, 1 no usable identity (unreadable, mismatched, no openssl), 2 usage. */
export async function runFingerprint(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: FingerprintIo,
  run: RunOpenssl = runOpenssl,
): Promise<number> {
  const loaded = subcommandConfig(argv, env, io.err);
  if (loaded.kind !== 'config') {
    io.err(USAGE);
    return loaded.kind === 'help' ? 0 : 2;
  }
  try {
    const identity = await loadIdentity(loaded.config, run);
    io.out(`${identity.fingerprint}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    io.err(`babel-hub fingerprint: ${err.message}\n`);
    return 1;
  }
}
