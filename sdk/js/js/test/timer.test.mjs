import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMEOUT_MS, delayUntil, every, scheduleAt } from '../dist/timer.js';
import { createEmitter } from '../dist/emitter.js';

test('the delay is clamped to 0 and to 2^31-1 ms', () => {
  assert.equal(MAX_TIMEOUT_MS, 2147483647);
  assert.equal(delayUntil(1000, 400), 600);
  assert.equal(delayUntil(1000, 2000), 0);
  assert.equal(delayUntil(40 * 86400_000, 0), MAX_TIMEOUT_MS);
});

test('a timer 30 days away re-arms past the 24.8-day cap and fires at the instant, not before', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const at = 30 * 86400_000;
  let fired = 0;
  scheduleAt(at, () => fired++);
  t.mock.timers.tick(MAX_TIMEOUT_MS);
  assert.equal(fired, 0, 'not at the cap');
  t.mock.timers.tick(at - MAX_TIMEOUT_MS - 1);
  assert.equal(fired, 0, 'not 1 ms early');
  t.mock.timers.tick(1);
  assert.equal(fired, 1);
  t.mock.timers.tick(MAX_TIMEOUT_MS);
  assert.equal(fired, 1, 'once');
});

test('an instant already past fires at once; a cancelled timer never fires', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5000 });
  let fired = 0;
  scheduleAt(1000, () => fired++);
  assert.equal(fired, 1);
  const cancel = scheduleAt(6000, () => fired++);
  cancel();
  t.mock.timers.tick(10_000);
  assert.equal(fired, 1);
});

test('every() ticks until cancelled', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let ticks = 0;
  const cancel = every(1000, () => ticks++);
  t.mock.timers.tick(3000);
  assert.equal(ticks, 3);
  cancel();
  t.mock.timers.tick(3000);
  assert.equal(ticks, 3);
});

test('the emitter calls listeners in order, unsubscribes, and survives a throwing listener', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const emitter = createEmitter();
  const seen = [];
  const off = emitter.on((v) => seen.push(`a${v}`));
  emitter.on(() => {
    throw new Error('listener bug');
  });
  emitter.on((v) => seen.push(`c${v}`));
  emitter.emit(1);
  off();
  off();
  emitter.emit(2);
  assert.deepEqual(seen, ['a1', 'c1', 'c2']);
  // The listener's error is rethrown on its own, outside the emit.
  assert.throws(() => t.mock.timers.tick(0), /listener bug/);
});
