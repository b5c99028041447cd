/**
 * A real crash test: a child process writes to the store and acknowledges each operation
 * after it returned; the parent kills it with SIGKILL at a random moment, reopens the
 * database and demands that it is intact and holds every acknowledged operation, and that
 * the one operation in flight at the kill is either wholly there or wholly absent.
 *
 * SIGKILL leaves the OS page cache alone, so this proves atomicity and that a returned
 * commit is committed; surviving power loss rests on `synchronous = FULL` (db.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { openDatabase } from '../../../hub/store/db.ts';
import { hangGuardMs } from '../../helpers/hang-guard.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const ROUNDS = 5;

type Op =
  | { op: 'create'; name: string; id: string }
  | { op: 'add'; owner: string; contact: string }
  | { op: 'delete'; id: string };

/** One line of the writer's output: `ready`, or `begin`/`ack` with the operation's fields. */
interface Line {
  ready?: number;
  begin?: Op['op'];
  ack?: Op['op'];
  name?: string;
  id?: string;
  owner?: string;
  contact?: string;
}

/** The store's content: users by id, and contact requests as `owner>contact` ids. */
interface State {
  users: Map<string, string>;
  edges: Set<string>;
}

function apply(state: State, op: Op): State {
  const users = new Map(state.users);
  let edges = new Set(state.edges);
  if (op.op === 'create') users.set(op.id, op.name);
  if (op.op === 'add') edges.add(`${op.owner}>${op.contact}`);
  if (op.op === 'delete') {
    users.delete(op.id);
    edges = new Set([...edges].filter((e) => !e.split('>').includes(op.id)));
  }
  return { users, edges };
}

/** The state by names, comparable even when an in-flight create's id is unknown. */
function view(state: State): { users: string[]; edges: string[] } {
  const name = (id: string) => state.users.get(id) ?? `?${id}`;
  return {
    users: [...state.users.values()].sort(),
    edges: [...state.edges].map((e) => e.split('>').map(name).join('>')).sort(),
  };
}

function toOp(line: Line, kind: Op['op']): Op {
  if (kind === 'create') return { op: kind, name: line.name!, id: line.id ?? 'in-flight' };
  if (kind === 'add') return { op: kind, owner: line.owner!, contact: line.contact! };
  return { op: kind, id: line.id! };
}

interface Round {
  lines: Line[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the writer and SIGKILLs it as soon as the parent has seen `acks` acknowledgements:
 * counted, not timed, so a slow machine moves the kill but never skips the writes. The
 * writer keeps going until the signal lands, wherever in an operation that is.
 */
function runRound(file: string, tag: string, acks: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, tag], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let scanned = 0;
    let seen = 0;
    let killed = false;
    const watchdog = setTimeout(() => child.kill('SIGKILL'), hangGuardMs(15_000));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const end = out.lastIndexOf('\n') + 1;
      for (const line of out.slice(scanned, end).split('\n')) {
        if (line.startsWith('{"ack"')) seen++;
      }
      scanned = Math.max(scanned, end);
      if (!killed && seen >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      // A line is complete only with its newline; a cut-off tail is dropped.
      const lines = out.split('\n').slice(0, -1);
      resolve({ lines: lines.map((l) => JSON.parse(l) as Line), code, signal, stderr });
    });
  });
}

function readState(file: string): { state: State; integrity: unknown; fkErrors: unknown[] } {
  const db = openDatabase(file); // must open cleanly after the kill
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    const fkErrors = db.pragma('foreign_key_check') as unknown[];
    const users = db.prepare('SELECT id, name FROM users').all() as Array<{
      id: string;
      name: string;
    }>;
    const edges = db.prepare('SELECT owner_id, contact_id FROM contacts').all() as Array<{
      owner_id: string;
      contact_id: string;
    }>;
    return {
      state: {
        users: new Map(users.map((u) => [u.id, u.name])),
        edges: new Set(edges.map((e) => `${e.owner_id}>${e.contact_id}`)),
      },
      integrity,
      fkErrors,
    };
  } finally {
    db.close();
  }
}

test('SIGKILL at random moments loses no acknowledged write and never corrupts', async (t) => {
  t.timeout(hangGuardMs(60_000));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'babel-crash-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hub.db');

  let model: State = { users: new Map(), edges: new Set() };
  let acked = 0;
  let begun = 0;
  let killedInFlight = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // A random moment: after 1 to 300 acknowledged operations (hundreds per 100 ms).
    const acks = 1 + Math.floor(Math.random() * 300);
    const result = await runRound(file, `r${round}`, acks);
    t.is(result.signal, 'SIGKILL', `round ${round} ended by itself: ${result.stderr}`);
    t.is(result.lines[0]?.ready, model.users.size, 'the writer starts from the same users');
    t.true(
      result.lines.filter((l) => l.ack).length >= acks,
      `round ${round}: killed after ${acks} acknowledgements`,
    );

    let inFlight: Op | undefined;
    for (const line of result.lines) {
      if (line.begin) {
        inFlight = toOp(line, line.begin);
        begun++;
      }
      if (line.ack) {
        model = apply(model, toOp(line, line.ack));
        inFlight = undefined;
        acked++;
      }
    }

    const { state, integrity, fkErrors } = readState(file);
    t.is(integrity, 'ok');
    t.deepEqual(fkErrors, []);
    if (inFlight) killedInFlight++;
    const allowed = [view(model)];
    if (inFlight) allowed.push(view(apply(model, inFlight)));
    const actual = view(state);
    const match = allowed.find((v) => isDeepStrictEqual(v, actual));
    t.deepEqual(
      actual,
      match ?? allowed[0],
      `round ${round}, in flight: ${JSON.stringify(inFlight)}`,
    );
    t.log(
      `round ${round}: ${result.lines.length} lines, ${state.users.size} users, ${state.edges.size} contacts`,
    );
    model = state; // the in-flight operation is settled now; continue from the truth
  }
  t.true(acked > 0, 'the writer acknowledged some operations');
  t.log(
    `${acked}/${begun} operations acknowledged; ${killedInFlight} of ${ROUNDS} kills hit one in flight`,
  );
});
