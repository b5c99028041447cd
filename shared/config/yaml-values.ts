/**
 * What YAML reads differently from what a user of a config file means, set right against
 * the schema before validation:
 *
 * - an empty value (`key:`) is the default, as if the key were absent;
 * - an explicit null (`null`, `Null`, `NULL`, `~`) is the value a setting's schema names
 *   in its `yamlNull` option (`playback: null` is the `null` speaker), else an error: no
 *   setting reads "no value" from it silently;
 * - a number or boolean where a string is expected is the text as written (`secret: 0123`
 *   is `0123`, not 123; `name: 1234`); true and false are `on` and `off` where the setting
 *   takes those (`login_throttle: false`);
 * - the unquoted words yes, no, on and off where a boolean is expected are true and false,
 *   as in YAML 1.1 and Home Assistant's files (YAML 1.2, which this parser reads, takes
 *   them for strings); a quoted value stays text, so `ring_timeout: "30"` is an error.
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML, { type Document, type Node as YamlNode } from 'yaml';
import { describe } from './messages.ts';
import { isPlainObject, type Raw } from './raw.ts';

/** Each scalar's source text and whether it was unquoted, by path (`JSON.stringify(segments)`). */
export type ScalarSources = ReadonlyMap<string, { readonly text: string; readonly plain: boolean }>;

export function scalarSources(doc: Document): ScalarSources {
  const out = new Map<string, { text: string; plain: boolean }>();
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (pair.value === null) out.set(JSON.stringify([...path, key]), { text: '', plain: true });
        else walk(pair.value, [...path, key]);
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i]);
      });
    } else if (YAML.isScalar(node)) {
      const text = node.source ?? String(node.value);
      out.set(JSON.stringify(path), { text, plain: node.type === 'PLAIN' });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** `raw` with the rules above applied against `schema`; problems as `path: message` lines. */
export function normalizeValues(
  schema: TSchema,
  raw: Raw,
  sources: ScalarSources,
  problems: string[],
): Raw {
  return normalize(schema, raw, [], sources, problems) as Raw;
}

function normalize(
  schema: TSchema | undefined,
  value: unknown,
  path: (string | number)[],
  sources: ScalarSources,
  problems: string[],
): unknown {
  const source = sources.get(JSON.stringify(path));
  if (value === null) {
    if (source === undefined || source.text === '') return undefined; // `key:`: the default
    if (schema === undefined) return value; // an unknown key: the schema reports it
    if (schema.yamlNull !== undefined) return schema.yamlNull;
    problems.push(
      `${dotted(path)}: is null (YAML reads null and ~ as no value); ${describe(schema)}, or leave it out for the default`,
    );
    return undefined;
  }
  if (Array.isArray(value)) {
    const items = schema && KindGuard.IsArray(schema) ? schema.items : arrayItems(schema);
    return value.map((v, i) => normalize(items, v, [...path, i], sources, problems));
  }
  if (isPlainObject(value)) {
    const out: Raw = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = normalize(childSchema(schema, k), v, [...path, k], sources, problems);
      if (kept !== undefined) out[k] = kept;
    }
    return out;
  }
  if (schema === undefined || fits(schema, value)) return value;
  if (typeof value === 'string') {
    const word = value.toLowerCase();
    const yes = word === 'yes' || word === 'on';
    if (source?.plain && takes(schema, 'boolean') && (yes || word === 'no' || word === 'off')) {
      return yes;
    }
    return value;
  }
  if ((typeof value === 'number' || typeof value === 'boolean') && takes(schema, 'string')) {
    const text = source?.text ?? String(value);
    if (fits(schema, text)) return text;
    if (typeof value === 'boolean' && fits(schema, value ? 'on' : 'off')) {
      return value ? 'on' : 'off';
    }
    return text;
  }
  return value;
}

/** `Value.Check` as a plain boolean (its type guard would narrow `value` to `never` when false). */
function fits(schema: TSchema, value: unknown): boolean {
  return Value.Check(schema, value);
}

/** Whether `schema` (or a member of its union) takes values of `kind`. */
function takes(schema: TSchema, kind: 'string' | 'number' | 'boolean'): boolean {
  if (KindGuard.IsUnion(schema)) return schema.anyOf.some((s) => takes(s, kind));
  if (KindGuard.IsLiteral(schema)) return typeof schema.const === kind;
  if (kind === 'string') return KindGuard.IsString(schema);
  if (kind === 'number') return KindGuard.IsNumber(schema) || KindGuard.IsInteger(schema);
  return KindGuard.IsBoolean(schema);
}

function childSchema(schema: TSchema | undefined, key: string): TSchema | undefined {
  if (schema === undefined) return undefined;
  if (KindGuard.IsObject(schema)) return schema.properties[key];
  if (KindGuard.IsRecord(schema)) return Object.values(schema.patternProperties)[0];
  // A union's mapping member (a panel key's `{ page: GROUP }`).
  if (KindGuard.IsUnion(schema)) {
    for (const member of schema.anyOf) {
      const child = childSchema(member, key);
      if (child !== undefined) return child;
    }
  }
  return undefined;
}

/** The item schema of a union's list member (`door.from`: a list of names, or `any`). */
function arrayItems(schema: TSchema | undefined): TSchema | undefined {
  if (schema === undefined || !KindGuard.IsUnion(schema)) return undefined;
  const list = schema.anyOf.find((s) => KindGuard.IsArray(s));
  return list && KindGuard.IsArray(list) ? list.items : undefined;
}

/** `['door', 'relay']` -> `door.relay`, `['button', 1]` -> `button[1]`. */
export function dotted(path: readonly (string | number)[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

/** An alias inside the node it names (`a: &a [*a]`): its 1-based line, or null when there is none. */
export function selfAliasLine(doc: Document, lines: YAML.LineCounter): number | null {
  let line: number | null = null;
  YAML.visit(doc, {
    Alias(_key, alias, path) {
      const target = alias.resolve(doc);
      if (target !== undefined && path.includes(target as YamlNode)) {
        line = lines.linePos(alias.range?.[0] ?? 0).line;
        return YAML.visit.BREAK;
      }
      return undefined;
    },
  });
  return line;
}
