/** The shape of one program's configuration: its flags, schema, file versions and a run's inputs. */
import type { Static, TObject } from '@sinclair/typebox';

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
  /**
   * What the schema cannot say (a port inside a host string, a GPIO line), run on a config
   * that passed the schema. `path` is the setting's dotted path (`button[1]`); the loader
   * names the flag or variable instead when one set it.
   */
  readonly check?: (config: Static<S>) => readonly ConfigProblem[];
  /** Subcommands, for `--help`: `[usage, what it does]`, e.g. `['status', 'ask the running hub ...']`. */
  readonly commands?: readonly (readonly [string, string])[];
}

/** One problem `ConfigSpec.check` found. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
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
