/**
 * Command-line flags, parsed against the program's flag table, and the `--help` text.
 *
 * `--flag value` or `--flag=value`; a boolean flag alone means true; a repeatable (`list`)
 * flag collects every occurrence and replaces the file's list; any other flag given twice
 * keeps the last.
 */
import type { TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { convert, kindOf } from './convert.ts';
import { envLeaves, envName } from './env.ts';
import { getPath, type Raw } from './raw.ts';
import { leafAt } from './schema.ts';
import type { ConfigSpec, FlagSpec, FlagTable } from './spec.ts';

interface FlagSet {
  readonly flag: string;
  readonly segments: readonly string[];
  readonly value: unknown;
}

export function parseArgv(table: FlagTable, argv: readonly string[], problems: string[]) {
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

/** Throws a plain `Error` if a flag points at no setting or disagrees with its type: a bug. */
export function checkSpec<S extends TObject>(spec: ConfigSpec<S>): void {
  for (const f of spec.flags) {
    const leaf = leafAt(spec.schema, f.path.split('.'));
    if (leaf === undefined)
      throw new Error(`flag table: ${f.flag} points at no setting (${f.path})`);
    if (kindOf(leaf) !== f.kind)
      throw new Error(`flag table: ${f.flag} is ${f.kind} but ${f.path} is ${kindOf(leaf)}`);
  }
}

/** The `--help` text: usage, the subcommands, every flag with its help and default, the environment rule. */
export function helpText<S extends TObject>(spec: ConfigSpec<S>): string {
  const defaults = Value.Default(spec.schema, {}) as Raw;
  const usage = ['[--config FILE]'];
  const rows: [string, string][] = [['--config FILE', 'YAML config file (default: none)']];
  for (const f of spec.flags) {
    const segments = f.path.split('.');
    const def = getPath(defaults, segments);
    const text = forUsers(f.help ?? String(leafAt(spec.schema, segments)?.description ?? ''));
    const notes = [
      f.kind === 'list' && !/may repeat/.test(text) ? 'may repeat' : '',
      def === undefined || (Array.isArray(def) && def.length === 0) ? '' : `default: ${def}`,
    ].filter(Boolean);
    const many = f.kind === 'list' ? '...' : '';
    const flag = f.arg === '' ? f.flag : `${f.flag} ${f.arg}`;
    usage.push(`[${flag}]${many}`);
    rows.push([`${flag}${many}`, notes.length ? `${text} (${notes.join('; ')})` : text]);
  }
  rows.push(
    ['-h, --help', 'print this help and exit'],
    ['--version', 'print the version and exit'],
  );
  const commands = spec.commands ?? [];
  const width = Math.max(...[...rows, ...commands].map(([left]) => left.length)) + 2;
  const examples = [1, 2].flatMap((depth) => {
    const leaf = envLeaves(spec.schema).find((l) => l.segments.length === depth);
    return leaf ? [envName(spec.envPrefix, leaf.segments)] : [];
  });
  const head = `Usage: ${spec.program}`;
  return [
    wrap(head, usage, 80),
    ...(commands.length === 0
      ? []
      : [
          `${' '.repeat(head.length - spec.program.length)}${spec.program} COMMAND [ARGS...] [--config FILE] [--data-dir DIR]`,
          '',
          'Commands:',
          ...commands.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
        ]),
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

/** A description without the contract clauses it cites for the code's readers (`[M-4]`, `[S-3, S-4]`). */
function forUsers(text: string): string {
  return text.replace(/ ?\[[A-Z]{1,2}-\d+(, ?[A-Z]{1,2}-\d+)*\]/g, '');
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
