/**
 * Text from a flag or an environment variable -> a value of the setting's schema type.
 * Values from flags and the environment are converted before validation; YAML values must
 * already have the right type.
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import type { FlagKind } from './spec.ts';

/** The conversion a setting's text needs, from its schema. */
export function kindOf(schema: TSchema): FlagKind {
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) return 'number';
  if (KindGuard.IsBoolean(schema)) return 'boolean';
  if (KindGuard.IsArray(schema)) return 'list';
  return 'string';
}

export function convert(kind: FlagKind, text: string): { value: unknown } | { problem: string } {
  switch (kind) {
    case 'number': {
      const ok = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text);
      return ok
        ? { value: Number(text) }
        : { problem: `expected a number, got ${JSON.stringify(text)}` };
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
      return { problem: `expected true or false, got ${JSON.stringify(text)}` };
    }
    case 'list':
      return {
        value: text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
    default:
      return { value: text };
  }
}
