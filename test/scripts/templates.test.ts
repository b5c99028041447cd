/** The config templates in scripts/templates/, against the real config loaders. */
import fs from 'node:fs';
import path from 'node:path';
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import test from 'ava';
import YAML from 'yaml';
import { DeviceConfigSchema, loadDeviceConfig } from '../../device/config-schema.ts';
import { HubConfigSchema, loadHubConfig } from '../../hub/config-schema.ts';
import { tempDir, templates } from './fixtures/install.ts';

// --- templates -----------------------------------------------------------------------

/** Every setting's dotted path; arrays and records are settings, objects are not. */
function leaves(schema: TObject, prefix = ''): { path: string; schema: TSchema }[] {
  return Object.entries(schema.properties).flatMap(([key, child]) => {
    const p = prefix ? `${prefix}.${key}` : key;
    return KindGuard.IsObject(child) ? leaves(child, p) : [{ path: p, schema: child }];
  });
}

function getPath(obj: unknown, dotted: string): unknown {
  let node = obj;
  for (const k of dotted.split('.')) node = (node as Record<string, unknown> | undefined)?.[k];
  return node;
}

/** The template with every commented-out setting switched on: `#key:` and `#  key:` lines. */
function uncomment(text: string): string {
  return text.replace(/^#((?: {2})*)([a-z_][a-z0-9_]*:(?: .*)?|"[^"]+":.*|- .*)$/gm, '$1$2');
}

const templateCases = [
  {
    file: 'hub.yaml',
    schema: HubConfigSchema,
    load: (argv: string[]) => loadHubConfig(argv, {}),
    examples: [] as string[],
  },
  {
    file: 'device.yaml',
    schema: DeviceConfigSchema,
    load: (argv: string[]) => loadDeviceConfig(argv, {}),
    // Shown with an example instead of the default (which the comment gives).
    examples: ['name', 'button', 'panel'],
  },
];

for (const c of templateCases) {
  test(`template ${c.file}: valid as shipped, every setting present with its default`, (t) => {
    const dir = tempDir(t, 'template');
    const shippedText = fs.readFileSync(path.join(templates, c.file), 'utf8');
    const shipped = c.load(['--config', path.join(templates, c.file)]);
    if (shipped.kind !== 'config') return t.fail(shipped.kind);

    const all = path.join(dir, c.file);
    fs.writeFileSync(all, uncomment(shippedText));
    const loaded = c.load(['--config', all]);
    if (loaded.kind !== 'config') return t.fail(loaded.kind);
    const raw = YAML.parse(uncomment(shippedText));
    for (const leaf of leaves(c.schema)) {
      t.not(getPath(raw, leaf.path), undefined, `${leaf.path} is in the template`);
      if (leaf.schema.default === undefined || c.examples.includes(leaf.path)) continue;
      t.deepEqual(
        getPath(loaded.config, leaf.path),
        getPath(shipped.config, leaf.path),
        `${leaf.path}: the commented value is the default`,
      );
    }
    // Each setting line has a comment above it, in its block, saying what it is.
    const blocks = shippedText.split(/\n\s*\n/);
    for (const block of blocks) {
      if (!/^#?[a-z_]+:/m.test(block)) continue;
      t.regex(block, /^# \S/m, block);
    }
  });
}
