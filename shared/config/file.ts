/**
 * The YAML config file named by `--config`: read, parsed, and migrated from its `version`
 * to the one this program writes.
 */
import type { TObject } from '@sinclair/typebox';
import YAML from 'yaml';
import { isPlainObject, type Raw } from './raw.ts';
import type { ConfigInput, ConfigSpec } from './spec.ts';
import { normalizeValues, scalarSources, selfAliasLine } from './yaml-values.ts';

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

export function readConfigFile<S extends TObject>(
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
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0].line;
      const message = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
      const lower = message.charAt(0).toLowerCase() + message.slice(1);
      problems.push(`${file}: ${line === undefined ? '' : `line ${line}: `}${lower}`);
    }
    return {};
  }
  // `a: &a [*a]` reads as a value that contains itself: nothing could walk it.
  const selfAlias = selfAliasLine(doc, lines);
  if (selfAlias !== null) {
    problems.push(`${file}: line ${selfAlias}: an alias refers to the node that contains it`);
    return {};
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml library refuses an alias bomb ("Excessive alias count ...").
    const why = /alias/i.test((err as Error).message)
      ? `too many aliases (more than ${MAX_ALIAS_COUNT}); a config file needs few, if any`
      : (err as Error).message;
    problems.push(`${file}: ${why}`);
    return {};
  }
  if (raw === null || raw === undefined) return {};
  if (!isPlainObject(raw)) {
    problems.push(`${file}: must be a mapping of settings`);
    return {};
  }
  const migrated = migrate(spec, raw, problems);
  return normalizeValues(spec.schema, migrated, scalarSources(doc), problems);
}

/** Aliases resolved per file at most: ample for anchors of shared settings, not a bomb. */
const MAX_ALIAS_COUNT = 100;

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
