import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BENCH_OPTIONS } from './bench-options';
import { parseRuntimeBenchOptions } from './runtime-options';

test('bench:runtime measures 1 and 2 threads, every part and both models by default', () => {
  assert.deepEqual(parseRuntimeBenchOptions([]), { ...DEFAULT_BENCH_OPTIONS, threads: [1, 2], skip: [], models: ['resnet20', 'vit'] });
});

test('--models picks the models and their order, once each', () => {
  assert.deepEqual(parseRuntimeBenchOptions(['--models', 'vit']).models, ['vit']);
  assert.deepEqual(parseRuntimeBenchOptions(['--models=vit,resnet20,vit', '--runs', '2']).models, ['vit', 'resnet20']);
  assert.throws(() => parseRuntimeBenchOptions(['--models', 'resnet56']), /unknown model 'resnet56' for --models; known: resnet20, vit/);
  assert.throws(() => parseRuntimeBenchOptions(['--models']), /flag --models needs a value/);
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
