/**
 * The README's commands, run, so that the documentation cannot rot.
 *
 * A fenced code block is run when an HTML comment right before it (blank lines between
 * are fine) says how:
 *
 *   <!-- test: run -->                  a shell script: every command must exit 0
 *   <!-- test: transcript [exit=N] -->  `$ command` lines, each followed by its expected
 *                                       output (stdout and stderr together); each command
 *                                       must exit N (default 0). `<anything>` in the
 *                                       expected output stands for any text; runs of
 *                                       spaces and tabs compare equal.
 *   <!-- test: hub-config -->           a hub.yaml the real loader accepts
 *   <!-- test: device-config -->        a device.yaml the real loader accepts
 *   <!-- test: list-audio-output -->    what `babel-device --list-audio` prints for the
 *                                       sample /proc/asound/cards below
 *
 * Commands are written as a user types them on an installed Pi. Here `babel-hub` and
 * `babel-device` are the source entry points (through tsx), `sudo [-u USER]` is dropped,
 * and /etc/babel and /var/lib/babel are a temp directory holding the config templates,
 * as install.sh would write them. The two commands at the top are not run here (CI runs
 * one of them). Every other sh/bash block must at least parse, every `--flag` given to
 * babel-hub, babel-device or install.sh must exist, and every relative link in README.md
 * and docs/*.md must point to a file that exists.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadDeviceConfig } from '../../device/config-schema.ts';
import { listAudio } from '../../device/list.ts';
import { loadHubConfig } from '../../hub/config-schema.ts';
import { hangGuardMs } from '../helpers/hang-guard.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
const tsx = import.meta.resolve('tsx');

/** The /proc/asound/cards the README's sample `--list-audio` output comes from. */
const SAMPLE_CARDS = ` 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones
                      bcm2835 Headphones
 1 [USB            ]: USB-Audio - Jabra SPEAK 410 USB
                      Jabra SPEAK 410 USB at usb-0000:01:00.0-1.4, full speed
`;

interface Block {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly marker: string | null;
  readonly body: string;
}

interface Parsed {
  readonly blocks: Block[];
  /** Markers followed by something other than a code block. */
  readonly strayMarkers: number[];
}

/** Fenced blocks (indented ones in list items too), each with the marker before it. */
function parseBlocks(markdown: string): Parsed {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  const strayMarkers: number[] = [];
  let marker: { text: string; line: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s*<!-- test: (.+?) -->\s*$/.exec(line);
    if (m) {
      if (marker) strayMarkers.push(marker.line);
      marker = { text: m[1]!, line: i + 1 };
      continue;
    }
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (fence) {
      const indent = fence[1]!.length;
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) {
        body.push(lines[j]!.slice(Math.min(indent, lines[j]!.search(/\S|$/))));
        j++;
      }
      blocks.push({
        line: i + 1,
        lang: fence[2]!,
        marker: marker?.text ?? null,
        body: body.join('\n'),
      });
      marker = null;
      i = j;
      continue;
    }
    if (line.trim() !== '' && marker) {
      strayMarkers.push(marker.line);
      marker = null;
    }
  }
  if (marker) strayMarkers.push(marker.line);
  return { blocks, strayMarkers };
}

const { blocks, strayMarkers } = parseBlocks(readme);
const KNOWN_MARKERS = /^(run|transcript( exit=\d+)?|hub-config|device-config|list-audio-output)$/;

// --- the environment commands run in --------------------------------------------------

interface Env {
  readonly dir: string;
  /** The bash lines that make `babel-hub`, `babel-device` and `sudo` what the README means. */
  readonly preamble: string;
}

function makeEnv(t: { teardown: (fn: () => void) => void }): Env {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-readme-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'etc/babel'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'var/lib/babel'), { recursive: true });
  const template = (f: string) => fs.readFileSync(path.join(repo, 'scripts/templates', f), 'utf8');
  fs.writeFileSync(
    path.join(dir, 'etc/babel/hub.yaml'),
    template('hub.yaml').replace(
      /^data_dir: \/var\/lib\/babel$/m,
      `data_dir: ${dir}/var/lib/babel`,
    ),
  );
  fs.writeFileSync(path.join(dir, 'etc/babel/device.yaml'), template('device.yaml'));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const preamble = [
    `babel-hub() { node --import ${q(tsx)} ${q(path.join(repo, 'hub/bin.ts'))} "$@"; }`,
    `babel-device() { node --import ${q(tsx)} ${q(path.join(repo, 'device/bin.ts'))} "$@"; }`,
    'sudo() { if [ "$1" = -u ]; then shift 2; fi; "$@"; }',
    `cd ${q(dir)}`,
  ].join('\n');
  return { dir, preamble };
}

/** The command with the system paths moved into the environment's directory. */
function localize(env: Env, command: string): string {
  return command
    .replace(/(^|[\s='"])\/etc\/babel\//g, `$1${env.dir}/etc/babel/`)
    .replace(/(^|[\s='"])\/var\/lib\/babel(?=[/\s'"]|$)/g, `$1${env.dir}/var/lib/babel`);
}

/** Our own process environment, without settings that would change what the programs do. */
function childEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: dir, LC_ALL: 'C.UTF-8' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(BABEL_|NODE_OPTIONS$|HOME$)/.test(k)) env[k] = v;
  }
  return env;
}

function bash(env: Env, script: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `${env.preamble}\n${script}`],
      // A guard against a hang, not a speed bound: the machine running the suite may be busy.
      { env: childEnv(env.dir), timeout: hangGuardMs(120_000) },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

const normalize = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .filter((l, i, all) => l !== '' || i < all.length - 1);

function matches(expected: string, actual: string): boolean {
  const pattern = expected
    .split(/(<[^<>]+>)/)
    .map((part, i) => (i % 2 ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`).test(actual);
}

// --- the markers ---------------------------------------------------------------------

test('README: every test marker is known and stands right before a code block', (t) => {
  t.deepEqual(strayMarkers, [], 'markers not followed by a code block (lines)');
  for (const b of blocks.filter((b) => b.marker !== null)) {
    t.regex(b.marker!, KNOWN_MARKERS, `line ${b.line}`);
  }
  // The chapters this test is for are all there and tested.
  for (const kind of ['run', 'transcript', 'hub-config', 'device-config', 'list-audio-output']) {
    t.true(
      blocks.some((b) => b.marker?.split(' ')[0] === kind),
      `a "${kind}" block`,
    );
  }
});

test('README: every sh/bash block parses', (t) => {
  for (const b of blocks.filter((b) => b.lang === 'sh' || b.lang === 'bash')) {
    t.notThrows(
      () => execFileSync('bash', ['-n'], { input: b.body, stdio: ['pipe', 'ignore', 'pipe'] }),
      `line ${b.line}`,
    );
  }
});

for (const b of blocks) {
  const first = b.body.split('\n').find((l) => l.trim() !== '') ?? '';
  const title = `README line ${b.line}: ${first.trim()}`;

  if (b.marker === 'run') {
    test(`${title} (runs)`, async (t) => {
      const env = makeEnv(t);
      const r = await bash(env, `set -e\n${localize(env, b.body)}`);
      t.is(r.code, 0, r.output);
    });
  }

  const transcript = /^transcript(?: exit=(\d+))?$/.exec(b.marker ?? '');
  if (transcript) {
    const exit = Number(transcript[1] ?? 0);
    test(`${title} (prints what the README shows)`, async (t) => {
      const env = makeEnv(t);
      const steps: { command: string; expected: string[] }[] = [];
      for (const line of b.body.split('\n')) {
        if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
        else if (steps.length === 0) t.fail(`output before the first "$ " line: ${line}`);
        else steps[steps.length - 1]!.expected.push(line);
      }
      t.true(steps.length > 0);
      for (const step of steps) {
        const r = await bash(env, `${localize(env, step.command)} 2>&1`);
        t.is(r.code, exit, `${step.command}\n${r.output}`);
        const actual = normalize(r.output);
        const expected = normalize(step.expected.join('\n'));
        t.is(actual.length, expected.length, `${step.command}\n${r.output}`);
        expected.forEach((line, i) => {
          t.true(
            matches(line, actual[i] ?? ''),
            `${step.command}: expected "${line}", got "${actual[i]}"`,
          );
        });
      }
    });
  }

  if (b.marker === 'hub-config' || b.marker === 'device-config') {
    test(`${title} (${b.marker} the loader accepts)`, (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-readme-config-'));
      t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'config.yaml');
      fs.writeFileSync(file, b.body);
      const loaded =
        b.marker === 'hub-config'
          ? loadHubConfig(['--config', file], {})
          : loadDeviceConfig(['--config', file], {});
      t.is(loaded.kind, 'config');
    });
  }

  if (b.marker === 'list-audio-output') {
    test(`${title} (is what --list-audio prints)`, (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-readme-cards-'));
      t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.writeFileSync(path.join(dir, 'cards'), SAMPLE_CARDS);
      t.is(`${b.body}\n`, listAudio(path.join(dir, 'cards')));
    });
  }
}

// --- flags ---------------------------------------------------------------------------

/** Every piece of code in the README: block lines and inline `code`. */
function codeFragments(): string[] {
  const inline = [...readme.replace(/^\s*```[\s\S]*?^\s*```/gm, '').matchAll(/`([^`\n]+)`/g)].map(
    (m) => m[1]!,
  );
  return [...blocks.flatMap((b) => b.body.split('\n')), ...inline];
}

/** The flags written after `program` in the fragments (up to a pipe, `;` or `&&`). */
function flagsAfter(program: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const fragment of codeFragments()) {
    for (const m of fragment.matchAll(program)) {
      const rest = fragment.slice(m.index! + m[0].length).split(/\||;|&&|#/)[0]!;
      for (const f of rest.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)) out.set(f[1]!, fragment);
    }
  }
  return out;
}

test('README: every flag given to babel-hub, babel-device and install.sh exists', async (t) => {
  const help = async (args: string[]) => {
    const env = makeEnv(t);
    const r = await bash(env, args.join(' '));
    t.is(r.code, 0, r.output);
    return r.output;
  };
  // A program where a command starts: line start, a prompt, after sudo [-u USER].
  const at = (name: string) => new RegExp(`(?<=^|\\$ |sudo (?:-u \\S+ )?)${name}(?=\\s|$)`, 'g');
  const programs: [RegExp, string][] = [
    [at('babel-hub(?! user)'), await help(['babel-hub', '--help'])],
    [at('babel-hub user'), '--config --data-dir'],
    [at('babel-device'), await help(['babel-device', '--help'])],
    [
      /scripts\/install\.sh(?=\s|$)/g,
      await help(['bash', path.join(repo, 'scripts/install.sh'), '--help']),
    ],
  ];
  let checked = 0;
  for (const [program, known] of programs) {
    for (const [flag, where] of flagsAfter(program)) {
      checked++;
      t.true(
        new RegExp(`(^|\\s|\\[)${flag}(?=[\\s=,\\]]|$)`, 'm').test(known),
        `${flag} in "${where}"`,
      );
    }
  }
  t.true(checked >= 10, `only ${checked} flags found: the extraction broke`);
});

// --- links ---------------------------------------------------------------------------

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const markdownFiles = [
  'README.md',
  ...fs
    .readdirSync(path.join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

for (const file of markdownFiles) {
  test(`${file}: every relative link points to a file (and heading) that exists`, (t) => {
    const text = fs
      .readFileSync(path.join(repo, file), 'utf8')
      .replace(/^\s*```[\s\S]*?^\s*```/gm, '');
    const anchorsOf = (f: string) =>
      new Set([...fs.readFileSync(f, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, file:
      const [rel, anchor] = target.split('#') as [string, string | undefined];
      const resolved =
        rel === '' ? path.join(repo, file) : path.resolve(path.dirname(path.join(repo, file)), rel);
      t.true(fs.existsSync(resolved), `${file}: ${target}`);
      if (anchor && resolved.endsWith('.md') && fs.existsSync(resolved)) {
        t.true(anchorsOf(resolved).has(anchor), `${file}: ${target} (no such heading)`);
      }
    }
    t.pass('every link checked');
  });
}
