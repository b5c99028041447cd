import test from 'ava';
import { ProtocolError } from '../../../protocol/errors.ts';
import {
  BadArgumentsError,
  formatLine,
  formatRequest,
  isBareToken,
  parseReply,
  parseRequest,
  type TextReply,
  type TextRequest,
} from '../../../protocol/text/codec.ts';
import { LineFramer } from '../../../protocol/text/framer.ts';
import { mulberry32 } from '../../helpers/prng.ts';

function randomString(random: () => number, alphabet: string[], max: number): string {
  let out = '';
  const length = Math.floor(random() * (max + 1));
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

const req = (verb: string, ...args: string[]): TextRequest => ({ verb, args });
const reply = (code: number, ...args: string[]): TextReply => ({ code, args });

const requests: Array<[string, string, TextRequest | null]> = [
  ['bare arguments', 'CONNECT alice 5004 s3cret', req('CONNECT', 'alice', '5004', 's3cret')],
  ['no arguments', 'USERS', req('USERS')],
  ['lowercase verb [T-2]', 'connect alice', req('CONNECT', 'alice')],
  ['mixed-case verb', 'HangUp bob', req('HANGUP', 'bob')],
  ['argument case kept', 'NEW Alice', req('NEW', 'Alice')],
  ['seed notation', "CONNECT ['user_name']", req('CONNECT', 'user_name')],
  ['seed notation with a space inside', "NEW ['uuid user_name']", req('NEW', 'uuid user_name')],
  ['seed empty list', 'OUT     []', req('OUT')],
  ['seed list of two', "CALL ['a', 'b']", req('CALL', 'a', 'b')],
  ['seed list without spaces', "CALL ['a','b']", req('CALL', 'a', 'b')],
  ['list with inner spaces', "CALL [ 'a' , 'b' ]", req('CALL', 'a', 'b')],
  ['list of double quotes', 'CALL ["a", "b c"]', req('CALL', 'a', 'b c')],
  ['list of bare items', 'CALL [a, b]', req('CALL', 'a', 'b')],
  ['empty list among arguments', 'X a [] b', req('X', 'a', 'b')],
  ['two lists', "X ['a'] ['b']", req('X', 'a', 'b')],
  ['quote holds commas and brackets', "X ['a,]b']", req('X', 'a,]b')],
  ['double-quoted', 'CALL "bob"', req('CALL', 'bob')],
  ['double-quoted with spaces', 'NEW "a b  c"', req('NEW', 'a b  c')],
  ['single-quoted', "CALL 'bob'", req('CALL', 'bob')],
  ['single quote inside double', `NEW "it's"`, req('NEW', "it's")],
  ['double quote inside single', `NEW 'say "hi"'`, req('NEW', 'say "hi"')],
  ['quotes inside a bare value are literal', `NEW pa"ss'wo]rd`, req('NEW', `pa"ss'wo]rd`)],
  ['several spaces', 'CALL    bob', req('CALL', 'bob')],
  ['tabs separate', 'CONNECT\talice\t \t5004', req('CONNECT', 'alice', '5004')],
  ['leading and trailing blanks', '  PING  tok  ', req('PING', 'tok')],
  ['trailing CRLF ignored', 'PING\r\n', req('PING')],
  ['trailing LF ignored', 'PING x\n', req('PING', 'x')],
  ['non-ASCII argument', 'NEW zoë', req('NEW', 'zoë')],
  ['unknown verb passes through', 'frobnicate x', req('FROBNICATE', 'x')],
  ['only ASCII is uppercased in the verb', 'straße', req('STRAßE')],
  ['empty line', '', null],
  ['blank line', ' \t ', null],
];

for (const [name, line, expected] of requests) {
  test(`parseRequest: ${name}`, (t) => {
    t.deepEqual(parseRequest(line), expected);
  });
}

const badRequests: Array<[string, string, string, string]> = [
  ['unterminated double quote', 'NEW "alice', 'bad_arguments', 'NEW'],
  ['unterminated single quote', "call 'bob", 'bad_arguments', 'CALL'],
  ['unterminated bracket', "CALL ['bob'", 'bad_arguments', 'CALL'],
  ['unterminated quote in a list', "CALL ['bob]", 'bad_arguments', 'CALL'],
  ['bare [', 'CALL [', 'bad_arguments', 'CALL'],
  ['trailing comma', "CALL ['a',]", 'bad_arguments', 'CALL'],
  ['missing comma', "CALL ['a' 'b']", 'bad_arguments', 'CALL'],
  ['leading comma', 'CALL [,a]', 'bad_arguments', 'CALL'],
  ['nested list', 'CALL [[a]]', 'bad_arguments', 'CALL'],
  ['text glued after a quote', 'CALL "a"b', 'bad_arguments', 'CALL'],
  ['text glued after a list', "CALL ['a']b", 'bad_arguments', 'CALL'],
  ['empty double quotes', 'NEW alice ""', 'bad_arguments', 'NEW'],
  ['empty seed value', "NEW ['']", 'bad_arguments', 'NEW'],
  ['NUL in an argument', 'NEW a\u0000b', 'bad_arguments', 'NEW'],
  ['CR in an argument', 'NEW a\rb', 'bad_arguments', 'NEW'],
  ['tab inside quotes', 'NEW "a\tb"', 'bad_arguments', 'NEW'],
  ['DEL in an argument', 'NEW a\u007f', 'bad_arguments', 'NEW'],
  ['control character in the verb', 'CON\u0000NECT alice', 'unknown_command', ''],
  ['quoted verb', '"CONNECT" alice', 'unknown_command', ''],
  ['seed-decorated verb', "['CONNECT'] alice", 'unknown_command', ''],
];

for (const [name, line, reason, verb] of badRequests) {
  test(`parseRequest rejects ${name}`, (t) => {
    const error = t.throws(() => parseRequest(line), { instanceOf: ProtocolError });
    t.like(error, { code: 400, reason, fatal: false });
    if (verb !== '') {
      t.true(error instanceof BadArgumentsError);
      t.is((error as BadArgumentsError).verb, verb);
    } else {
      t.false(error instanceof BadArgumentsError);
    }
  });
}

test('parseRequest reads every command of the seed [T-2]', (t) => {
  const seed: Array<[string, TextRequest]> = [
    ["CONNECT ['user_name']", req('CONNECT', 'user_name')],
    ['OUT     []', req('OUT')],
    ['USERS   []', req('USERS')],
    ["CALL    ['sender_name']", req('CALL', 'sender_name')],
    ["CALLED  ['caller_name']", req('CALLED', 'caller_name')],
    ["ACCEPT  ['target_name']", req('ACCEPT', 'target_name')],
    ["HANGUP  ['target_name']", req('HANGUP', 'target_name')],
    ["NEW     ['user_name']", req('NEW', 'user_name')],
  ];
  for (const [line, expected] of seed) t.deepEqual(parseRequest(`${line}\r\n`), expected, line);
});

const lines: Array<[string, [number, ...Array<string | number>], string]> = [
  ['code only', [102], '102\r\n'],
  ['one argument [T-3]', [105, 'alice'], '105 alice\r\n'],
  ['numbers', [106, 'bob', '10.0.0.2', 5004], '106 bob 10.0.0.2 5004\r\n'],
  ['users list', [103, 'alice:idle', 'bob:offline'], '103 alice:idle bob:offline\r\n'],
  [
    'uuid and name',
    [101, '0b1c9a0e-52a3-4d4e-9b1c-1d2e3f405162', 'alice'],
    '101 0b1c9a0e-52a3-4d4e-9b1c-1d2e3f405162 alice\r\n',
  ],
  ['error with a verb', [400, 'unknown_command', 'FROB'], '400 unknown_command FROB\r\n'],
  ['quotes inside are fine', [109, `a"b'c`], `109 a"b'c\r\n`],
];

for (const [name, [code, ...args], expected] of lines) {
  test(`formatLine: ${name}`, (t) => {
    t.is(formatLine(code, ...args), expected);
  });
}

const badLines: Array<[string, number, Array<string | number>]> = [
  ['empty argument', 105, ['']],
  ['space in an argument', 105, ['a b']],
  ['CR in an argument', 105, ['a\r']],
  ['LF in an argument', 105, ['a\nb']],
  ['tab in an argument', 105, ['a\tb']],
  ['NUL in an argument', 105, ['a\u0000']],
  ['leading double quote, read back as decoration', 105, ['"a']],
  ['leading single quote', 105, ["'a'"]],
  ['leading bracket', 105, ['[]']],
  ['NaN', 106, [Number.NaN]],
  ['Infinity', 106, [Number.POSITIVE_INFINITY]],
  ['two-digit code', 99, []],
  ['four-digit code', 1000, []],
  ['fractional code', 101.5, []],
];

for (const [name, code, args] of badLines) {
  test(`formatLine throws for ${name}`, (t) => {
    t.throws(() => formatLine(code, ...args));
  });
}

const replies: Array<[string, string, TextReply | null]> = [
  ['code only', '102', reply(102)],
  ['CRLF ignored', '102\r\n', reply(102)],
  ['arguments [T-3]', '106 bob 10.0.0.2 5004', reply(106, 'bob', '10.0.0.2', '5004')],
  ['several blanks', '105  alice\t', reply(105, 'alice')],
  ['seed notation', "105 ['alice']", reply(105, 'alice')],
  ['seed value with a space is split', "101 ['uuid user_name']", reply(101, 'uuid', 'user_name')],
  ['seed empty list', '102 []', reply(102)],
  ['double quotes', '104 "bob"', reply(104, 'bob')],
  ['seed description text', '101 Connection successful', reply(101, 'Connection', 'successful')],
  ['empty quoted value dropped', "107 bob ''", reply(107, 'bob')],
  ['not a digit', 'hello 101', null],
  ['leading space', ' 101 alice', null],
  ['empty', '', null],
];

for (const [name, line, expected] of replies) {
  test(`parseReply: ${name}`, (t) => {
    t.deepEqual(parseReply(line), expected);
  });
}

const badReplies: Array<[string, string]> = [
  ['two digits', '10 alice'],
  ['four digits', '1011 alice'],
  ['letter after the code', '101a'],
  ['unterminated quote', "105 ['alice"],
  ['unterminated list', "105 ['alice'"],
];

for (const [name, line] of badReplies) {
  test(`parseReply rejects ${name}`, (t) => {
    const error = t.throws(() => parseReply(line), { instanceOf: ProtocolError });
    t.like(error, { code: 400, reason: 'bad_reply' });
  });
}

const formatted: Array<[string, [string, ...string[]], string]> = [
  ['bare', ['CONNECT', 'alice', '5004', 's3cret'], 'CONNECT alice 5004 s3cret\r\n'],
  ['verb only', ['USERS'], 'USERS\r\n'],
  ['space is double-quoted', ['NEW', 'a b'], 'NEW "a b"\r\n'],
  ['leading quote is quoted', ['NEW', "'x"], `NEW "'x"\r\n`],
  ['leading bracket is quoted', ['NEW', '[x]'], 'NEW "[x]"\r\n'],
  ['double quote inside gets single quotes', ['NEW', '"x y'], `NEW '"x y'\r\n`],
  ['inner quotes stay bare', ['NEW', `a"b'c`], `NEW a"b'c\r\n`],
];

for (const [name, [verb, ...args], expected] of formatted) {
  test(`formatRequest: ${name}`, (t) => {
    t.is(formatRequest(verb, ...args), expected);
  });
}

const badFormatted: Array<[string, string, string[]]> = [
  ['empty verb', '', []],
  ['verb with a space', 'A B', []],
  ['quoted verb', '"A"', []],
  ['empty argument', 'NEW', ['']],
  ['CR in an argument', 'NEW', ['a\r']],
  ['LF in an argument', 'NEW', ['a\n']],
  ['tab in an argument', 'NEW', ['a\tb']],
  ['both quotes and a space', 'NEW', [`a" 'b`]],
];

for (const [name, verb, args] of badFormatted) {
  test(`formatRequest throws for ${name}`, (t) => {
    t.throws(() => formatRequest(verb, ...args));
  });
}

test('isBareToken is what formatLine accepts', (t) => {
  for (const token of ['a', '10.0.0.1', 'x"y', 'é', '-1']) t.true(isBareToken(token), token);
  for (const token of ['', ' ', 'a b', '"a', "'", '[', 'a\tb', 'a\r']) t.false(isBareToken(token));
});

// Printable ASCII plus space, tab, a few non-ASCII characters and the decoration marks.
const TEXT = [...' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\té€😀'];
const BARE = [...'!#$%&()*+,-./09:;<=>?@AZ\\]^_`az{|}~é€😀"\''];

test('round trip fuzz: formatRequest -> framer -> parseRequest gives the arguments back', (t) => {
  const random = mulberry32(0x52455153);
  const verbs = ['CONNECT', 'new', 'Call', 'PING'];
  const framer = new LineFramer();
  const failures: string[] = [];
  for (let n = 0; n < 20_000; n++) {
    const verb = verbs[n % verbs.length] ?? 'PING';
    const args = Array.from({ length: Math.floor(random() * 4) }, () =>
      randomString(
        random,
        TEXT.filter((c) => c !== '\t'),
        8,
      ).replace(/^$/, 'x'),
    );
    if (args.some((a) => a.includes('"') && a.includes("'") && !isBareToken(a))) continue;
    const events = framer.push(Buffer.from(formatRequest(verb, ...args)));
    const event = events[0];
    const got = event?.kind === 'line' ? parseRequest(event.line) : undefined;
    const want = { verb: verb.toUpperCase(), args };
    if (events.length !== 1 || JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(JSON.stringify([verb, ...args]));
    }
  }
  t.deepEqual(failures, []);
});

test('round trip fuzz: formatLine -> parseReply gives the arguments back', (t) => {
  const random = mulberry32(0x5245504c);
  const failures: string[] = [];
  for (let n = 0; n < 20_000; n++) {
    const code = 100 + Math.floor(random() * 900);
    const args = Array.from({ length: Math.floor(random() * 4) }, () => {
      const token = randomString(random, BARE, 8);
      return isBareToken(token) ? token : `t${token}`;
    });
    const got = parseReply(formatLine(code, ...args));
    if (JSON.stringify(got) !== JSON.stringify({ code, args })) failures.push(JSON.stringify(args));
  }
  t.deepEqual(failures, []);
});

/** Non-empty and free of control characters, as every parsed argument must be. */
const isCleanValue = (a: string): boolean =>
  a.length > 0 && ![...a].some((c) => c < ' ' || c === '\u007f');

/** Lines biased toward the grammar's own characters. */
const GRAMMAR = [...TEXT, ...'[[]]""\'\',,,    ', '\u0000', '\r', '\u007f', 'CALL ', "['", "']"];

test('parseRequest fuzz: 100,000 random lines throw only ProtocolError, results are clean', (t) => {
  const random = mulberry32(0x46555a5a);
  const seen = new Set<string>();
  for (let n = 0; n < 100_000; n++) {
    const line = randomString(random, GRAMMAR, 24);
    let problem = '';
    try {
      const request = parseRequest(line);
      seen.add(request === null ? 'null' : 'request');
      if (request !== null) {
        if (!isBareToken(request.verb) || /[a-z]/.test(request.verb)) problem = 'verb';
        if (!request.args.every(isCleanValue)) problem = 'args';
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) problem = `threw ${String(err)}`;
      else if (err instanceof BadArgumentsError) {
        seen.add(err.reason);
        formatLine(400, err.reason, err.verb); // the adapter's reply must not throw
      } else seen.add(err.reason);
    }
    if (problem !== '') {
      t.fail(`case ${n}: ${JSON.stringify(line)}: ${problem}`);
      return;
    }
  }
  t.deepEqual([...seen].sort(), ['bad_arguments', 'null', 'request', 'unknown_command']);
});

test('parseReply fuzz: 100,000 random lines throw only ProtocolError, arguments are bare', (t) => {
  const random = mulberry32(0x5245504c);
  const seen = new Set<string>();
  for (let n = 0; n < 100_000; n++) {
    const digits = randomString(random, [...'0123456789'], 4);
    const line = digits + randomString(random, GRAMMAR, 20);
    let problem = '';
    try {
      const parsed = parseReply(line);
      seen.add(parsed === null ? 'null' : 'reply');
      if (parsed !== null) {
        if (!(parsed.code >= 0 && parsed.code <= 999)) problem = 'code';
        if (!parsed.args.every((a) => a.length > 0 && !/[ \t]/.test(a))) problem = 'args';
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) problem = `threw ${String(err)}`;
      else seen.add(err.reason);
    }
    if (problem !== '') {
      t.fail(`case ${n}: ${JSON.stringify(line)}: ${problem}`);
      return;
    }
  }
  t.deepEqual([...seen].sort(), ['bad_reply', 'null', 'reply']);
});
