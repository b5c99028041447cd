/**
 * [S-3] Which hub certificate this device trusts. The fingerprint is the SHA-256 of the
 * certificate's DER, written `sha256:<64 lowercase hex>` as `babel-hub fingerprint` prints
 * it [S-2]. A configured pin (`hub_fingerprint`) decides alone; without one, the first
 * certificate seen is recorded in the state directory (trust on first use) and every
 * later one must match it. A mismatch is refused before a byte is written: no `CONNECT`,
 * no secret. The hub client asks `HubTrust.check()` on 'secureConnect' (Node calls no
 * `checkServerIdentity` for a self-signed certificate when `rejectUnauthorized` is off).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { makeDir } from '../../shared/make-dir.ts';

/** The file, inside the state directory, that holds the fingerprint trusted on first use. */
export const FINGERPRINT_FILE = 'hub-fingerprint';

/** `sha256:` and the lowercase hex SHA-256 of a certificate's DER. */
export function fingerprintOf(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * A fingerprint as written by a person: `sha256:` then 64 hex digits, either case, bare or
 * in colon-separated pairs (`openssl x509 -fingerprint`), surrounding blanks ignored. The
 * canonical form, or null when it is not one.
 */
export function normalizeFingerprint(text: string): string | null {
  const m = /^sha256:([0-9a-f:]+)$/i.exec(text.trim());
  if (!m) return null;
  const v = m[1]!;
  const hex = v.includes(':')
    ? /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i.test(v)
      ? v.replaceAll(':', '')
      : ''
    : v;
  return /^[0-9a-f]{64}$/i.test(hex) ? `sha256:${hex.toLowerCase()}` : null;
}

/** What to do with the certificate a hub presented. */
export type TrustVerdict =
  /** It is the configured pin, or the one recorded before. */
  | { readonly kind: 'trusted'; readonly by: 'pin' | 'recorded' }
  /** Nothing pinned or recorded: trust it and record it. */
  | { readonly kind: 'first_use' }
  /** Another certificate than the pinned or recorded one: refuse. */
  | {
      readonly kind: 'mismatch';
      readonly by: 'pin' | 'recorded';
      readonly expected: string;
      readonly presented: string;
    };

/** The pure decision; every argument is canonical (`normalizeFingerprint`) or null. */
export function judge(
  presented: string,
  pin: string | null,
  recorded: string | null,
): TrustVerdict {
  const by = pin !== null ? 'pin' : recorded !== null ? 'recorded' : null;
  const expected = pin ?? recorded;
  if (by === null || expected === null) return { kind: 'first_use' };
  return expected === presented
    ? { kind: 'trusted', by }
    : { kind: 'mismatch', by, expected, presented };
}

export interface HubTrustOptions {
  /** `hub_fingerprint` from the config (any form `normalizeFingerprint` takes), or null. */
  readonly pin: string | null;
  /** The device's state directory, where the first-use fingerprint is kept. */
  readonly stateDir: string;
  readonly log: Logger;
}

/**
 * The trust decision with its side effects: the first-use record (written to a temporary
 * name with mode 0600 and renamed into place, like the secret) and the log lines. The
 * record is read at each connection, so deleting it re-pairs without a restart.
 */
export class HubTrust {
  readonly #pin: string | null;
  readonly #file: string;
  readonly #stateDir: string;
  readonly #log: Logger;
  /** The refusal last logged at error; the same one again goes to debug. */
  #refused: string | null = null;

  constructor(o: HubTrustOptions) {
    const pin = o.pin === null ? null : normalizeFingerprint(o.pin);
    if (o.pin !== null && pin === null) throw new RangeError(`hub_fingerprint: not sha256:HEX`);
    this.#pin = pin;
    this.#stateDir = o.stateDir;
    this.#file = path.join(o.stateDir, FINGERPRINT_FILE);
    this.#log = o.log;
  }

  /** The file that holds the fingerprint trusted on first use. */
  get file(): string {
    return this.#file;
  }

  /**
   * Whether a pin is configured or a first-use record exists (a damaged record counts: it
   * is refused with its own message), so that `check` with `firstUse: 'refuse'` can pass.
   */
  get paired(): boolean {
    return this.#pin !== null || this.#readRecord() !== null;
  }

  /**
   * Whether the certificate (DER) may be talked to; logs refusals and first use. With
   * `firstUse: 'refuse'` (the MQTT link [S-9, extension]) nothing pinned or recorded is a
   * refusal, not a first use: only the hub link records.
   */
  check(der: Buffer, hub: string, opts: { firstUse?: 'record' | 'refuse' } = {}): boolean {
    const presented = fingerprintOf(der);
    let recorded: string | null = null;
    if (this.#pin === null) {
      const read = this.#readRecord();
      if (read === 'unusable')
        return this.#refuse(`unusable:${presented}`, () => {
          this.#log.error(
            { file: this.#file, presented, hub },
            `refused the hub: ${this.#file} does not hold a fingerprint; delete it to trust the hub's certificate again, or set hub_fingerprint`,
          );
        });
      recorded = read;
    }
    const v = judge(presented, this.#pin, recorded);
    switch (v.kind) {
      case 'trusted':
        this.#refused = null;
        this.#log.debug({ fingerprint: presented, by: v.by }, 'hub certificate trusted');
        return true;
      case 'first_use':
        if (opts.firstUse === 'refuse') {
          return this.#refuse(`unpaired:${presented}`, () => {
            this.#log.warn(
              { presented, hub },
              'not logging in to the MQTT broker yet: the hub link has not paired with the hub (no hub_fingerprint, no first-use record); waiting',
            );
          });
        }
        this.#refused = null;
        this.#record(presented, hub);
        return true;
      case 'mismatch':
        return this.#refuse(`${v.by}:${presented}`, () => {
          const fix =
            v.by === 'pin'
              ? 'if the hub really has a new certificate, set hub_fingerprint to what `babel-hub fingerprint` prints on the hub'
              : `if the hub really has a new certificate (compare with \`babel-hub fingerprint\` on the hub), re-pair: delete ${this.#file} or set hub_fingerprint`;
          this.#log.error(
            { expected: v.expected, presented: v.presented, by: v.by, hub },
            `refused the hub: its certificate is ${v.presented}, expected ${v.expected} (${v.by === 'pin' ? 'hub_fingerprint' : 'recorded on first use'}); ${fix}`,
          );
        });
    }
  }

  #refuse(key: string, say: () => void): false {
    if (this.#refused !== key) say();
    else this.#log.debug({ refusal: key }, 'refused the hub certificate again');
    this.#refused = key;
    return false;
  }

  /** The recorded fingerprint, null when there is none, `unusable` for a damaged file. */
  #readRecord(): string | null | 'unusable' {
    let text: string;
    try {
      text = fs.readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.#log.warn({ err, file: this.#file }, 'cannot read the recorded hub fingerprint');
      return 'unusable';
    }
    return normalizeFingerprint(text) ?? 'unusable';
  }

  #record(fingerprint: string, hub: string): void {
    try {
      makeDir(this.#stateDir, 0o700);
      const tmp = `${this.#file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${fingerprint}\n`, { mode: 0o600 });
      fs.renameSync(tmp, this.#file);
    } catch (err) {
      // Still trusted for this connection; the next one is a first use again.
      this.#log.warn({ err, file: this.#file }, 'could not record the hub fingerprint');
    }
    this.#log.warn(
      { fingerprint, hub, file: this.#file },
      `trusting the hub on first use: its certificate is ${fingerprint}; compare with \`babel-hub fingerprint\` on the hub (or pin it with hub_fingerprint)`,
    );
  }
}
