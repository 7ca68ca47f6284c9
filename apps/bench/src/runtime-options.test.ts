import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BENCH_OPTIONS } from './bench-options';
import { parseRuntimeBenchOptions } from './runtime-options';

test('bench:runtime measures 1 and 2 threads and every part by default', () => {
  assert.deepEqual(parseRuntimeBenchOptions([]), { ...DEFAULT_BENCH_OPTIONS, threads: [1, 2], skip: [] });
});

test('--threads and --skip mix with the shared bench flags', () => {
  const options = parseRuntimeBenchOptions(['--threads', '2', '--runs=9', '--skip=cpu,stock']);
  assert.deepEqual(options.threads, [2]);
  assert.deepEqual(options.skip, ['cpu', 'stock']);
  assert.equal(options.timedRuns, 9);
});

test('bad thread counts and unknown parts are rejected by name', () => {
  assert.throws(() => parseRuntimeBenchOptions(['--threads', '0']), /invalid value '0' for --threads/);
  assert.throws(() => parseRuntimeBenchOptions(['--skip', 'gpu']), /unknown part 'gpu' for --skip/);
  assert.throws(() => parseRuntimeBenchOptions(['--threads']), /needs a value/);
  assert.throws(() => parseRuntimeBenchOptions(['--frobnicate', '1']), /unknown flag/);
});
