/**
 * One schema per program -> validated once at start -> a typed config object.
 *
 * Sources, highest precedence first: command-line flags (`flags.ts`), environment
 * (`env.ts`), the YAML file named by `--config` (`file.ts`; no `--config`, no file), the
 * schema's defaults. Every problem in every source is collected and thrown together as one
 * `ConfigError`, one `path: message` line each (`messages.ts`), where `path` names what the
 * user typed: a flag (`--ring-timeout`), an environment variable (`BABEL_HUB_TEXT_PORT`), a
 * setting's dotted path (`mqtt.url`) or the config file itself (`hub.yaml: line 3: ...`).
 */
import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readEnv } from './env.ts';
import { ConfigError } from './errors.ts';
import { readConfigFile } from './file.ts';
import { checkSpec, helpText, parseArgv } from './flags.ts';
import { labelFor, validationProblems } from './messages.ts';
import { setPath } from './raw.ts';
import type { ConfigInput, ConfigSpec, LoadResult } from './spec.ts';

export { mqttUrlProblem } from './checks.ts';
export { envName } from './env.ts';
export { helpText } from './flags.ts';
export { oneOf } from './schema.ts';
export type {
  ConfigInput,
  ConfigProblem,
  ConfigSpec,
  FlagKind,
  FlagSpec,
  FlagTable,
  LoadResult,
  Migration,
} from './spec.ts';

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
  problems.push(...validationProblems(spec.schema, config, origin));
  if (problems.length === 0 && spec.check) {
    for (const p of spec.check(config as Static<S>)) {
      problems.push(`${labelFor(p.path, origin)}: ${p.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'config', config: config as Static<S>, file: cli.file };
}
