/**
 * `babel-hub web-login [--set-password | --generate-password | --new-metrics-token]
 * [--config FILE] [--data-dir DIR]` (docs/web.md): shows the web page's address, its
 * admin login (the first, generated password until one of one's own is set) and the
 * metrics token; or changes them. `--set-password` reads the new password from the first
 * line of stdin (at least 10 characters), so it never shows in `ps` or the shell history.
 * The running hub takes a change at the next request and ends the old password's sessions.
 * Exit codes: 0 done, 1 nothing to show or refused, 2 usage or config error.
 */

import os from 'node:os';
import { reachableHost } from '../mqtt/login-command.ts';
import { subcommandConfig } from '../subcommand-config.ts';
import {
  generatePassword,
  newMetricsToken,
  readWebLogin,
  setAdminPassword,
  WEB_ADMIN_USER,
} from './credentials.ts';

const USAGE = `usage: babel-hub web-login [--set-password | --generate-password | --new-metrics-token] [--config FILE] [--data-dir DIR]
  (no option)           print the page's address, the admin login and the /metrics token
  --set-password        set the admin password to the first line read from stdin (10+ characters)
  --generate-password   set a new random admin password and print it
  --new-metrics-token   replace the /metrics bearer token and print it
`;

const MIN_PASSWORD = 10;

export interface WebLoginIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The first line of stdin (without its newline). */
  readLine: () => Promise<string>;
}

export async function runWebLogin(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: WebLoginIo,
): Promise<number> {
  const actions = ['--set-password', '--generate-password', '--new-metrics-token'];
  const chosen = argv.filter((a) => actions.includes(a));
  const flags = argv.filter((a) => !actions.includes(a));
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  if (chosen.length > 1) {
    io.err(`choose one of ${actions.join(', ')}\n${USAGE}`);
    return 2;
  }
  const loaded = subcommandConfig(flags, env, io.err);
  if (loaded.kind !== 'config') {
    io.err(USAGE);
    return loaded.kind === 'help' ? 0 : 2;
  }
  const { config } = loaded;
  const dir = config.data_dir;
  try {
    switch (chosen[0]) {
      case '--set-password': {
        const password = (await io.readLine()).replace(/\r$/, '');
        if (password.length < MIN_PASSWORD) {
          io.err(`the password must have at least ${MIN_PASSWORD} characters; nothing changed\n`);
          return 1;
        }
        await setAdminPassword(dir, password);
        io.out('admin password changed; the open sessions of the old one are ended\n');
        return 0;
      }
      case '--generate-password': {
        const password = generatePassword();
        await setAdminPassword(dir, password);
        io.out(`admin password changed\nusername: ${WEB_ADMIN_USER}\npassword: ${password}\n`);
        return 0;
      }
      case '--new-metrics-token': {
        io.out(`metrics_token: ${newMetricsToken(dir)}\n`);
        return 0;
      }
    }
    const login = readWebLogin(dir);
    if (!login) {
      io.err(
        `no web login in ${dir}: the hub makes it on its first start with the page on (http_port); start it once (or pass the --data-dir / --config it runs with)\n`,
      );
      return 1;
    }
    const url =
      config.http_port === 0
        ? '(off: http_port is 0)'
        : `http://${reachableHost(config.host, os.networkInterfaces)}:${config.http_port}/`;
    io.out(
      `url: ${url}\nusername: ${WEB_ADMIN_USER}\npassword: ${
        login.initial_password ?? '(one you set; change it with --set-password)'
      }\nmetrics_token: ${login.metrics_token}\n`,
    );
    return 0;
  } catch (err) {
    io.err(`babel-hub web-login: ${(err as Error).message}\n`);
    return 1;
  }
}
