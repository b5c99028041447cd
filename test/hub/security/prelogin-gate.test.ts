import test from 'ava';
import { PreLoginGate } from '../../../hub/security/prelogin-gate.ts';

test('[S-8] at most perAddress waiting connections from one address', (t) => {
  const gate = new PreLoginGate({ perAddress: 3, total: 100 });
  const tickets = [1, 2, 3].map(() => gate.admit('127.0.0.9'));
  t.true(tickets.every((x) => x !== null));
  t.is(gate.admit('127.0.0.9'), null);
  t.not(gate.admit('127.0.0.10'), null, 'another address still gets in');
  tickets[0]?.release();
  t.not(gate.admit('127.0.0.9'), null, 'a released place is free again');
  t.is(gate.refused, 1);
});

test('[S-8] at most total waiting connections in all', (t) => {
  const gate = new PreLoginGate({ perAddress: 32, total: 64 });
  let admitted = 0;
  for (let i = 0; i < 100; i++) if (gate.admit(`127.0.1.${i}`)) admitted++;
  t.is(admitted, 64);
  t.is(gate.pending, 64);
  t.is(gate.refused, 36);
});

test('[S-8] release is idempotent: a login then a close frees one place, not two', (t) => {
  const gate = new PreLoginGate({ perAddress: 2, total: 10 });
  const a = gate.admit('127.0.0.9');
  gate.admit('127.0.0.9');
  a?.release();
  a?.release();
  t.is(gate.pending, 1);
  t.not(gate.admit('127.0.0.9'), null);
  t.is(gate.admit('127.0.0.9'), null);
});

test('[S-8] defaults are 32 per address and 1,024 in all', (t) => {
  const gate = new PreLoginGate();
  t.is(gate.perAddress, 32);
  t.is(gate.total, 1024);
});
