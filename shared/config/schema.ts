/** Building and walking TypeBox setting schemas. */
import {
  KindGuard,
  type SchemaOptions,
  type TLiteral,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';

/** A union of string literals, for settings such as `relay: auto | always | never`. */
export function oneOf<const T extends string>(
  values: readonly T[],
  options: SchemaOptions = {},
): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

/** The schema of the setting at `segments`, or `undefined` if there is none. */
export function leafAt(schema: TSchema, segments: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const s of segments)
    node = node && KindGuard.IsObject(node) ? node.properties[s] : undefined;
  return node;
}
