/**
 * Schema validation -> one `path: message` line per bad setting, where `path` names what
 * the user typed: the flag or environment variable that set it, else its dotted path.
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';

/**
 * Validates `config` against `schema`: one line per bad setting, the first error at each
 * path only. `origin` maps a dotted path to the flag or variable that set it.
 */
export function validationProblems(
  schema: TSchema,
  config: unknown,
  origin: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, config)) {
    const path = pointerToPath(error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    const label = labelFor(path, origin);
    problems.push(`${label}: ${describeError(error.type, error.schema)}`);
  }
  return problems;
}

/** What the user typed for the setting at dotted `path`: the flag or variable that set it, else `path`. */
export function labelFor(path: string, origin: ReadonlyMap<string, string>): string {
  return origin.get(path) ?? origin.get(path.replace(/\[\d+\]$/, '')) ?? path;
}

/** `/mqtt/url` -> `mqtt.url`, `/button/1` -> `button[1]`. */
function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out;
}

function describeError(type: ValueErrorType, schema: TSchema): string {
  if (type === ValueErrorType.ObjectAdditionalProperties) return 'unknown setting';
  if (type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  return describe(schema);
}

/** What a value must be, from its schema; a schema's own `errorMessage` wins. */
export function describe(schema: TSchema): string {
  if (typeof schema.errorMessage === 'string') return schema.errorMessage;
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    const what = KindGuard.IsInteger(schema) ? 'an integer' : 'a number';
    const { minimum: lo, maximum: hi } = schema;
    if (lo !== undefined && hi !== undefined) return `must be ${what} from ${lo} to ${hi}`;
    if (lo !== undefined) return `must be ${what} of at least ${lo}`;
    if (hi !== undefined) return `must be ${what} of at most ${hi}`;
    return `must be ${what}`;
  }
  if (KindGuard.IsBoolean(schema)) return 'must be true or false';
  if (KindGuard.IsLiteral(schema)) return `must be ${String(schema.const)}`;
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteral(s))) {
    return `must be one of ${schema.anyOf.map((s) => String(s.const)).join(', ')}`;
  }
  if (KindGuard.IsString(schema)) {
    return (schema.minLength ?? 0) > 0 ? 'must be a non-empty string' : 'must be a string';
  }
  if (KindGuard.IsArray(schema)) {
    return KindGuard.IsString(schema.items) ? 'must be a list of strings' : 'must be a list';
  }
  if (KindGuard.IsObject(schema)) return 'must be a mapping of settings';
  return 'is not valid';
}
