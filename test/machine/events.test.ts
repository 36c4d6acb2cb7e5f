import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventQueue, type EventOwner } from '../../machine/events.js';

function recorder(id: number, log: string[]): EventOwner {
  return { eventId: id, onEvent: (kind, arg, at) => { log.push(`${id}:${kind}:${arg}@${at}`); } };
}

test('fires in time order, ties in insertion order', () => {
  const q = new EventQueue(), log: string[] = [];
  const a = recorder(1, log), b = recorder(2, log);
  q.register(a); q.register(b);
  q.schedule(30, a, 1, 0);
  q.schedule(10, b, 2, 0);
  q.schedule(10, a, 3, 0);
  q.schedule(20, b, 4, 0);
  q.runUntil(25);
  assert.equal(log, ['2:2:0@10', '1:3:0@10', '2:4:0@20']);
  assert.is(q.next(), 30);
  q.runUntil(30);
  assert.is(log.length, 4);
  assert.is(q.next(), Number.POSITIVE_INFINITY);
});

test('cancel removes exactly the event named', () => {
  const q = new EventQueue(), log: string[] = [];
  const a = recorder(1, log);
  q.register(a);
  const hs = [50, 40, 30, 20, 10].map((t) => q.schedule(t, a, t, 0));
  assert.ok(q.cancel(hs[2]));
  assert.not.ok(q.cancel(hs[2]));
  q.runUntil(100);
  assert.equal(log, ['1:10:0@10', '1:20:0@20', '1:40:0@40', '1:50:0@50']);
});

test('a saved queue reloads into the same future, handles included', () => {
  const log1: string[] = [], log2: string[] = [];
  const q1 = new EventQueue(), q2 = new EventQueue();
  q1.register(recorder(7, log1));
  q2.register(recorder(7, log2));
  const owner = recorder(7, log1);
  for (let k = 0; k < 20; k++) q1.schedule((k * 37) % 11, owner, k, k * 3);
  q1.runUntil(4);
  const handle = q1.schedule(9, owner, 99, 0);
  q2.loadState(JSON.parse(JSON.stringify(q1.saveState())));
  assert.ok(q2.cancel(handle));
  q1.cancel(handle);
  const before = log1.length;
  q1.runUntil(100);
  q2.runUntil(100);
  assert.equal(log2, log1.slice(before));
  assert.is(q2.fired, q1.fired);
});

test('an owner registered twice is a bug, said at once', () => {
  const q = new EventQueue();
  q.register(recorder(1, []));
  assert.throws(() => q.register(recorder(1, [])), /registered twice/);
});

test.run();
