/**
 * [T-4] User names in the text dialect: lowercased on receipt, then checked against one
 * pattern. Only ASCII letters are folded, so no Unicode case mapping can turn a foreign
 * character into an ASCII one (`'\u212A'.toLowerCase()` is `'k'`, the Kelvin sign).
 */

/** [T-4] A valid name: a lowercase letter or digit, then at most 31 of `a-z 0-9 . _ -`. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** `raw` with ASCII letters (only) lowercased: names, verbs, e-mails. */
export function asciiLower(raw: string): string {
  return raw.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** [T-4] `raw` with ASCII letters lowercased, or `null` when the result is not a valid name. */
export function normalizeName(raw: string): string | null {
  if (raw.length === 0 || raw.length > 32) return null;
  const name = asciiLower(raw); // [T-4]
  return NAME_PATTERN.test(name) ? name : null;
}
