/**
 * [T-4] The one namespace of users and groups [G-1]: the pattern, and the names the hub
 * keeps for its own MQTT topics.
 */
import { asciiLower, normalizeName } from '../../protocol/names.ts';

const NAME_MAX = 32;

/**
 * Names that would collide with the hub's own MQTT topics (`babel/calls`, `babel/bridge/state`)
 * are refused, as zigbee2mqtt reserves `bridge`.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['calls', 'bridge']);

/** `raw` normalized [T-4], or why it cannot name a user or a group. */
export function checkName(raw: string): { name: string } | { problem: string } {
  const name = normalizeName(raw);
  if (name === null) return { problem: `invalid name: ${raw}` };
  if (RESERVED_NAMES.has(name)) return { problem: `reserved name: ${name}` };
  return { name };
}

/**
 * The name `/create` derives from an e-mail before making it unique [B-5]: the lowercased
 * local part without characters outside `[a-z0-9._-]`, without leading punctuation,
 * `user` if nothing is left, at most 32 characters.
 */
export function nameFromEmail(email: string): string {
  const local = asciiLower(email.slice(0, email.lastIndexOf('@')));
  const base = local.replace(/[^a-z0-9._-]/g, '').replace(/^[^a-z0-9]+/, '');
  return (base || 'user').slice(0, NAME_MAX);
}

/** `base` for n = 1, else `base` cut short enough that `base + n` fits 32 characters. */
export function withSuffix(base: string, n: number): string {
  if (n === 1) return base;
  const suffix = String(n);
  return base.slice(0, NAME_MAX - suffix.length) + suffix;
}
