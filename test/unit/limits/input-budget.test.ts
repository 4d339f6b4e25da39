import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputBudget } from '../../../libs/limits/input-budget.ts';

test('input budget: accounts share the node budget; a charge that does not fit charges nothing', () => {
  const budget = new InputBudget(100);
  const a = budget.open();
  const b = budget.open();
  assert.equal(a.tryCharge(60), true);
  assert.equal(b.tryCharge(41), false);
  assert.equal(b.heldBytes, 0);
  assert.equal(b.tryCharge(40), true);
  assert.equal(budget.bufferedBytes, 100);
  a.release(10);
  assert.equal(a.heldBytes, 50);
  assert.equal(budget.bufferedBytes, 90);
});

test('input budget: close returns everything once; releases past the balance are clamped', () => {
  const budget = new InputBudget(100);
  const a = budget.open();
  const b = budget.open();
  a.tryCharge(30);
  b.tryCharge(20);
  a.release(50);
  assert.equal(a.heldBytes, 0);
  assert.equal(budget.bufferedBytes, 20);
  b.close();
  b.close();
  b.release(5);
  assert.equal(budget.bufferedBytes, 0);
  assert.equal(b.tryCharge(1), false);
});

test('input budget: must be a non-negative integer', () => {
  assert.throws(() => new InputBudget(-1), RangeError);
  assert.throws(() => new InputBudget(1.5), RangeError);
  assert.equal(new InputBudget(0).open().tryCharge(1), false);
});

test('input budget: spare reservations only while the budget stays at most half used', () => {
  const budget = new InputBudget(100);
  const a = budget.open();
  assert.equal(a.tryCharge(50, true), true);
  assert.equal(a.tryCharge(1, true), false);
  assert.equal(a.tryCharge(50), true);
  assert.equal(budget.bufferedBytes, 100);
});
