import { readFileSync } from 'node:fs';

/**
 * This package's version, read from package.json whether running from the sources
 * (`hub/cli.ts`) or the build (`dist/hub/cli.js`): the nearest package.json named
 * `babel-intercom` above this file.
 */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'babel-intercom' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
