/**
 * The `babel-hub` subcommands as `babel-hub --help` lists them. Each prints its own usage
 * (`babel-hub user`, `babel-hub backup`); keep this list in step with `cli.ts`.
 */
export const HUB_COMMANDS: readonly (readonly [string, string])[] = [
  ['user add|list|remove|secret', 'manage device accounts in the database'],
  ['group add|remove|list', 'manage call groups (paging several stations)'],
  ['pair [--minutes N]', 'let new devices create their accounts for a while (running hub)'],
  ['fingerprint', "print the hub certificate's fingerprint, to pin on devices"],
  ['mqtt-login', 'print the embedded broker logins (for Home Assistant)'],
  ['web-login', "print or change the status page's admin login"],
  ['status [--json]', 'ask the running hub: listeners, stations, calls, MQTT, uptime'],
  ['backup FILE', 'copy the database to FILE, safely while the hub runs'],
  ['restore FILE', 'replace the database with FILE (hub stopped)'],
];
