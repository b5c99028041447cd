/**
 * One schema per program -> validated once at start -> a typed config object.
 *
 * Sources, highest precedence first: command-line flags, environment, the YAML file
 * named by `--config` (no `--config`, no file), the schema's defaults. Every problem in
 * every source is collected and thrown together as one `ConfigError`, one `path: message`
 * line each, where `path` names what the user typed: a flag (`--ring-timeout`), an
 * environment variable (`BABEL_HUB_TEXT_PORT`), a setting's dotted path (`mqtt.url`) or
 * the config file itself (`hub.yaml: line 3: ...`).
 *
 * Environment rule: every setting in the schema (except `version`) can be set as
 * `<PREFIX><KEY>`, the key upper-cased, nested keys joined with a double underscore:
 * with prefix `BABEL_HUB_`, `text_port` is `BABEL_HUB_TEXT_PORT` and `mqtt.url` is
 * `BABEL_HUB_MQTT__URL`. Lists are comma-separated. An empty variable counts as unset; a
 * variable with the prefix that names no setting is an error (a typo would otherwise be
 * silently ignored).
 *
 * Flags: `--flag value` or `--flag=value`; a boolean flag alone means true; a repeatable
 * (`list`) flag collects every occurrence and replaces the file's list; any other flag
 * given twice keeps the last. Values from flags and the environment are converted to the
 * schema's types before validation; YAML values must already have the right type.
 */
import {
  KindGuard,
  type SchemaOptions,
  type Static,
  type TLiteral,
  type TObject,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { ConfigError } from '../errors.ts';

/** How a flag's or variable's text is converted: as is, to a number, a boolean, or a list. */
export type FlagKind = 'string' | 'number' | 'boolean' | 'list';

/** One command-line flag and the setting it writes. */
export interface FlagSpec {
  /** With its dashes: `--text-port`. */
  readonly flag: string;
  /** Dotted path of the setting in the schema: `mqtt.url`. */
  readonly path: string;
  /** Must agree with the setting's schema type; `list` flags may repeat. */
  readonly kind: FlagKind;
  /** Placeholder shown in help: `N`, `URL|embedded|off`. */
  readonly arg: string;
  /** Help text; defaults to the setting's schema `description`. */
  readonly help?: string;
}

/** The flags of one program. `--config`, `--help`/`-h` and `--version` are built in. */
export type FlagTable = readonly FlagSpec[];

/** Upgrades a raw config file from one version to the next. */
export type Migration = (raw: Record<string, unknown>) => Record<string, unknown>;

/** Everything about one program's configuration that does not change between runs. */
export interface ConfigSpec<S extends TObject> {
  /** Program name, for help: `babel-hub`. */
  readonly program: string;
  /** Schema with `additionalProperties: false` on every object and a default on each. */
  readonly schema: S;
  readonly flags: FlagTable;
  /** Environment prefix: `BABEL_HUB_`. */
  readonly envPrefix: string;
  /** The config file format this program writes; a file with a higher `version` is refused. */
  readonly version: number;
  /** `migrations[n]` upgrades a version-n file to n + 1. */
  readonly migrations?: Readonly<Record<number, Migration>>;
}

/** The run's inputs: `argv` without node and script (`process.argv.slice(2)`). */
export interface ConfigInput {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
}

/** A config to run with, or a request the caller answers (print `text`, or its version). */
export type LoadResult<T> =
  | { readonly kind: 'config'; readonly config: T; readonly file: string | null }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' };

type Raw = Record<string, unknown>;

interface Leaf {
  readonly segments: readonly string[];
  readonly schema: TSchema;
}

/**
 * Reads flags, environment and file, validates them against `spec.schema` and returns the
 * typed config. Throws `ConfigError` listing every problem; throws a plain `Error` only
 * when `spec` itself is wrong (a flag pointing at no setting), which is a bug.
 */
export function loadConfig<S extends TObject>(
  spec: ConfigSpec<S>,
  input: ConfigInput,
): LoadResult<Static<S>> {
  checkSpec(spec);
  const problems: string[] = [];
  const cli = parseArgv(spec.flags, input.argv, problems);
  if (cli.help) return { kind: 'help', text: helpText(spec) };
  if (cli.version) return { kind: 'version' };

  const origin = new Map<string, string>();
  const merged = cli.file === null ? {} : readConfigFile(spec, cli.file, input, problems);
  for (const [name, value] of readEnv(spec, input.env, problems)) {
    setPath(merged, value.segments, value.value);
    origin.set(value.segments.join('.'), name);
  }
  for (const set of cli.sets) {
    setPath(merged, set.segments, set.value);
    origin.set(set.segments.join('.'), set.flag);
  }

  const config = Value.Default(spec.schema, merged);
  const seen = new Set<string>();
  for (const error of Value.Errors(spec.schema, config)) {
    const path = pointerToPath(error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    const label = origin.get(path) ?? origin.get(path.replace(/\[\d+\]$/, '')) ?? path;
    problems.push(`${label}: ${describeError(error.type, error.schema)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'config', config: config as Static<S>, file: cli.file };
}

/** The `--help` text: usage, every flag with its help and default, the environment rule. */
export function helpText<S extends TObject>(spec: ConfigSpec<S>): string {
  const defaults = Value.Default(spec.schema, {}) as Raw;
  const usage = ['[--config FILE]'];
  const rows: [string, string][] = [['--config FILE', 'YAML config file (default: none)']];
  for (const f of spec.flags) {
    const segments = f.path.split('.');
    const def = getPath(defaults, segments);
    const notes = [
      f.kind === 'list' ? 'may repeat' : '',
      def === undefined || (Array.isArray(def) && def.length === 0) ? '' : `default: ${def}`,
    ].filter(Boolean);
    const text = f.help ?? String(leafAt(spec.schema, segments)?.description ?? '');
    const many = f.kind === 'list' ? '...' : '';
    usage.push(`[${f.flag} ${f.arg}]${many}`);
    rows.push([`${f.flag} ${f.arg}${many}`, notes.length ? `${text} (${notes.join('; ')})` : text]);
  }
  rows.push(
    ['-h, --help', 'print this help and exit'],
    ['--version', 'print the version and exit'],
  );
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const examples = [1, 2].flatMap((depth) => {
    const leaf = envLeaves(spec.schema).find((l) => l.segments.length === depth);
    return leaf ? [envName(spec.envPrefix, leaf.segments)] : [];
  });
  return [
    wrap(`Usage: ${spec.program}`, usage, 80),
    '',
    'Options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    '',
    `Every setting can also be set in the environment as ${spec.envPrefix}<KEY> in upper case,`,
    `with __ between nested keys (${examples.join(', ')}).`,
    'Precedence: flags, then environment, then the config file, then defaults.',
    '',
  ].join('\n');
}

/** `head` then `words`, wrapped at `width` columns under the first word. */
function wrap(head: string, words: readonly string[], width: number): string {
  const lines = [head];
  for (const w of words) {
    const last = lines.length - 1;
    if (lines[last]!.length + 1 + w.length <= width || lines[last] === head) lines[last] += ` ${w}`;
    else lines.push(`${' '.repeat(head.length)} ${w}`);
  }
  return lines.join('\n');
}

/** The environment variable of a setting: `envName('BABEL_HUB_', ['mqtt', 'url'])` is `BABEL_HUB_MQTT__URL`. */
export function envName(prefix: string, segments: readonly string[]): string {
  return prefix + segments.map((s) => s.toUpperCase()).join('__');
}

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

// --- flags ---------------------------------------------------------------------------

interface FlagSet {
  readonly flag: string;
  readonly segments: readonly string[];
  readonly value: unknown;
}

function parseArgv(table: FlagTable, argv: readonly string[], problems: string[]) {
  const out = { help: false, version: false, file: null as string | null, sets: [] as FlagSet[] };
  const lists = new Map<FlagSpec, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg === '--version') {
      out.version = true;
      continue;
    }
    if (!arg.startsWith('-')) {
      problems.push(`${arg}: unexpected argument`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const next = argv[i + 1];
    const nextIsValue = next !== undefined && !next.startsWith('--');
    const spec = table.find((f) => f.flag === name);
    if (name !== '--config' && spec === undefined) {
      problems.push(`${name}: unknown flag`);
      if (inline === undefined && nextIsValue) i++; // skip its value, not a second problem
      continue;
    }
    let text: string;
    if (inline !== undefined) text = inline;
    else if (spec?.kind === 'boolean') text = 'true';
    else if (nextIsValue) text = argv[++i]!;
    else {
      problems.push(`${name}: expected a value`);
      continue;
    }
    if (spec === undefined) {
      if (text === '') problems.push(`${name}: expected a value`);
      else out.file = text;
      continue;
    }
    if (spec.kind === 'list') {
      const list = lists.get(spec) ?? [];
      list.push(text);
      lists.set(spec, list);
      continue;
    }
    const converted = convert(spec.kind, text);
    if ('problem' in converted) problems.push(`${name}: ${converted.problem}`);
    else out.sets.push({ flag: name, segments: spec.path.split('.'), value: converted.value });
  }
  for (const [spec, list] of lists) {
    out.sets.push({ flag: spec.flag, segments: spec.path.split('.'), value: list });
  }
  return out;
}

function convert(kind: FlagKind, text: string): { value: unknown } | { problem: string } {
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

// --- environment ---------------------------------------------------------------------

function readEnv<S extends TObject>(
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
function envLeaves(schema: TObject, prefix: readonly string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [key, child] of Object.entries(schema.properties)) {
    if (prefix.length === 0 && key === 'version') continue;
    const segments = [...prefix, key];
    if (KindGuard.IsObject(child)) out.push(...envLeaves(child, segments));
    else out.push({ segments, schema: child });
  }
  return out;
}

function kindOf(schema: TSchema): FlagKind {
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) return 'number';
  if (KindGuard.IsBoolean(schema)) return 'boolean';
  if (KindGuard.IsArray(schema)) return 'list';
  return 'string';
}

// --- file ----------------------------------------------------------------------------

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

function readConfigFile<S extends TObject>(
  spec: ConfigSpec<S>,
  file: string,
  input: ConfigInput,
  problems: string[],
): Raw {
  let text: string;
  try {
    text = input.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = READ_ERRORS[code] ?? (err as Error).message;
    problems.push(`${file}: cannot read: ${why}`);
    return {};
  }
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0].line;
      const message = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
      const lower = message.charAt(0).toLowerCase() + message.slice(1);
      problems.push(`${file}: ${line === undefined ? '' : `line ${line}: `}${lower}`);
    }
    return {};
  }
  const raw = dropNulls(doc.toJS({ maxAliasCount: 100 }));
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) {
    problems.push(`${file}: must be a mapping of settings`);
    return {};
  }
  return migrate(spec, raw, problems);
}

function migrate<S extends TObject>(spec: ConfigSpec<S>, raw: Raw, problems: string[]): Raw {
  const from = raw.version;
  if (from === undefined || typeof from !== 'number' || !Number.isInteger(from) || from < 1) {
    return raw; // absent: the current version; malformed: the schema reports it
  }
  if (from > spec.version) {
    problems.push(
      `version: ${from} is newer than this ${spec.program} understands (${spec.version}); upgrade ${spec.program}`,
    );
    return {};
  }
  let out = raw;
  for (let v = from; v < spec.version; v++) {
    const step = spec.migrations?.[v];
    if (step === undefined) {
      problems.push(`version: cannot migrate a version ${v} config file; see the changelog`);
      return {};
    }
    out = step(out);
  }
  return { ...out, version: spec.version };
}

/** YAML `key:` with nothing after it means "the default", as if the key were absent. */
function dropNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isPlainObject(value)) return value;
  const out: Raw = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = dropNulls(v);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}

// --- schema walking and messages -------------------------------------------------------

function checkSpec<S extends TObject>(spec: ConfigSpec<S>): void {
  for (const f of spec.flags) {
    const leaf = leafAt(spec.schema, f.path.split('.'));
    if (leaf === undefined)
      throw new Error(`flag table: ${f.flag} points at no setting (${f.path})`);
    if (kindOf(leaf) !== f.kind)
      throw new Error(`flag table: ${f.flag} is ${f.kind} but ${f.path} is ${kindOf(leaf)}`);
  }
}

function leafAt(schema: TSchema, segments: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const s of segments)
    node = node && KindGuard.IsObject(node) ? node.properties[s] : undefined;
  return node;
}

function getPath(obj: Raw, segments: readonly string[]): unknown {
  let node: unknown = obj;
  for (const s of segments) node = isPlainObject(node) ? node[s] : undefined;
  return node;
}

function setPath(obj: Raw, segments: readonly string[], value: unknown): void {
  let node = obj;
  for (const s of segments.slice(0, -1)) {
    const child = node[s];
    if (isPlainObject(child)) {
      node = child;
    } else {
      const fresh: Raw = {}; // the more specific source wins over a malformed parent
      node[s] = fresh;
      node = fresh;
    }
  }
  node[segments[segments.length - 1]!] = value;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
function describe(schema: TSchema): string {
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
