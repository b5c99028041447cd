/**
 * The YAML config file named by `--config`: read, parsed, and migrated from its `version`
 * to the one this program writes.
 */
import type { TObject } from '@sinclair/typebox';
import YAML from 'yaml';
import { isPlainObject, type Raw } from './raw.ts';
import type { ConfigInput, ConfigSpec } from './spec.ts';

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
