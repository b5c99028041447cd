/**
 * The folder layout is the architecture (docs/architecture.md): protocol/ is the wire and
 * imports neither program; shared/ is the kernel and imports no program; hub/ and device/
 * stand side by side and never import each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';

const root = path.resolve(import.meta.dirname, '..');
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every relative import of every .ts file under `dir`, as top-level folders of the tree. */
function importsOf(dir: string): Array<{ file: string; target: string }> {
  const found: Array<{ file: string; target: string }> = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(IMPORT)) {
          const spec = m[1] ?? '';
          const target = path.relative(root, path.resolve(path.dirname(p), spec));
          found.push({ file: path.relative(root, p), target: target.split(path.sep)[0] ?? '' });
        }
      }
    }
  };
  walk(path.join(root, dir));
  return found;
}

const allowed: Record<string, readonly string[]> = {
  protocol: ['protocol'],
  shared: ['shared'],
  hub: ['hub', 'protocol', 'shared'],
  device: ['device', 'protocol', 'shared'],
};

for (const [dir, may] of Object.entries(allowed)) {
  test(`${dir}/ imports only ${may.join(', ')}`, (t) => {
    const wrong = importsOf(dir).filter((i) => !may.includes(i.target));
    t.deepEqual(
      wrong.map((i) => `${i.file} -> ${i.target}/`),
      [],
    );
    t.true(importsOf(dir).length > 0, 'the scan found the imports');
  });
}
