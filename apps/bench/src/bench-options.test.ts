import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BENCH_OPTIONS, parseBenchOptions } from './bench-options';
import { median } from './timing';

test('defaults write to bench-results/runtime.json with batch 128', () => {
  assert.deepEqual(parseBenchOptions([]), DEFAULT_BENCH_OPTIONS);
  assert.equal(DEFAULT_BENCH_OPTIONS.outPath, 'bench-results/runtime.json');
  assert.equal(DEFAULT_BENCH_OPTIONS.wasmBatch, 128);
});

test('flags override defaults in both --flag value and --flag=value form', () => {
  const options = parseBenchOptions(['--out', 'x/y.json', '--cpu-batch=4', '--runs', '9']);
  assert.equal(options.outPath, 'x/y.json');
  assert.equal(options.cpuBatch, 4);
  assert.equal(options.timedRuns, 9);
});

test('unknown flags and bad numbers are rejected', () => {
  assert.throws(() => parseBenchOptions(['--batchsize', '8']), /unknown flag/);
  assert.throws(() => parseBenchOptions(['--batch', '0']), /invalid value/);
  assert.throws(() => parseBenchOptions(['--out']), /needs a value/);
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
