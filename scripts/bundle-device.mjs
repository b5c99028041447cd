// Bundles the built device agent (dist/device/bin.js and everything it imports) into one
// ES module, dist/device/babel-device.mjs, with its source map: what the systemd unit and
// `babel-device` run. One file instead of some 450 modules (ours and 350 of our
// dependencies): about 5 MB less resident memory in a call for the same code
// (docs/benchmarks.md, issue 15).
//
//   node scripts/bundle-device.mjs          (run by `npm run build`, after tsc)
//
// Kept outside the bundle, loaded from node_modules as before: the native addons (ours and
// serialport's, onoff's) and MQTT.js, which the agent imports only when MQTT is on.
// esbuild is the bundler (a maintained one: no bundler of our own).
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

const EXTERNAL = [
  'babel-alsa',
  'babel-media',
  'babel-dsp',
  'babel-opus',
  'mqtt',
  'serialport',
  '@serialport/*',
  'onoff',
  'epoll',
];

await build({
  entryPoints: [path.join(root, 'dist/device/bin.js')],
  outfile: path.join(root, 'dist/device/babel-device.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Whitespace and syntax minified, names kept: a stack trace in the journal still names
  // the functions (0.5 MB more resident than minified names; the .map gives the lines).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  external: EXTERNAL,
  // The bundle keeps bin.js's `#!/usr/bin/env node`; CommonJS dependencies (pino, yaml)
  // call `require` for Node's built-ins, which an ES module has to make for itself.
  banner: {
    js: "import { createRequire as __babelRequire } from 'node:module';\nconst require = __babelRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
