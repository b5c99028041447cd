/**
 * Environment overrides, derived from the schema.
 *
 * Every setting in the schema (except `version`) can be set as `<PREFIX><KEY>`, the key
 * upper-cased, nested keys joined with a double underscore: with prefix `BABEL_HUB_`,
 * `text_port` is `BABEL_HUB_TEXT_PORT` and `mqtt.url` is `BABEL_HUB_MQTT__URL`. Lists are
 * comma-separated. An empty variable counts as unset; a variable with the prefix that names
 * no setting is an error (a typo would otherwise be silently ignored).
 */
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import { convert, kindOf } from './convert.ts';
import type { ConfigSpec } from './spec.ts';

interface Leaf {
  readonly segments: readonly string[];
  readonly schema: TSchema;
}

/** The environment variable of a setting: `envName('BABEL_HUB_', ['mqtt', 'url'])` is `BABEL_HUB_MQTT__URL`. */
export function envName(prefix: string, segments: readonly string[]): string {
  return prefix + segments.map((s) => s.toUpperCase()).join('__');
}

export function readEnv<S extends TObject>(
  spec: ConfigSpec<S>,
  env: NodeJS.ProcessEnv,
  problems: string[],
) {
  const byName = new Map(
    envLeaves(spec.schema).map((l) => [envName(spec.envPrefix, l.segments), l]),
  );
  const out: [string, { segments: readonly string[]; value: unknown }][] = [];
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (!name.startsWith(spec.envPrefix) || text === undefined || text === '') continue;
    const leaf = byName.get(name);
    if (leaf === undefined) {
      problems.push(`${name}: unknown setting`);
      continue;
    }
    const converted = convert(kindOf(leaf.schema), text);
    if ('problem' in converted) problems.push(`${name}: ${converted.problem}`);
    else out.push([name, { segments: leaf.segments, value: converted.value }]);
  }
  return out;
}

/** Every setting that is not itself an object of settings, `version` excluded. */
export function envLeaves(schema: TObject, prefix: readonly string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [key, child] of Object.entries(schema.properties)) {
    if (prefix.length === 0 && key === 'version') continue;
    const segments = [...prefix, key];
    if (KindGuard.IsObject(child)) out.push(...envLeaves(child, segments));
    else out.push({ segments, schema: child });
  }
  return out;
}
