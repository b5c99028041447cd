import { ConfigError } from '../shared/config/errors.ts';
import { type HubConfig, loadHubConfig } from './config-schema.ts';

/**
 * The hub config a subcommand (`user`, `pair`, `mqtt-login`) acts on, from its own
 * `--config` / `--data-dir` flags and the environment, as the hub itself would load it.
 * A config that fails its schema is said on `err`, one `path: message` line a problem;
 * the caller picks the exit code and whether to show its usage.
 */
export type SubcommandConfig =
  | { readonly kind: 'config'; readonly config: HubConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'invalid' };

export function subcommandConfig(
  flags: string[],
  env: NodeJS.ProcessEnv,
  err: (text: string) => void,
): SubcommandConfig {
  try {
    const loaded = loadHubConfig(flags, env);
    return loaded.kind === 'config' ? { kind: 'config', config: loaded.config } : { kind: 'help' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) err(`${p}\n`);
    return { kind: 'invalid' };
  }
}
