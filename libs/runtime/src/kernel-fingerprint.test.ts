import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixIntraOpThreads, requestDeterministicGpuKernels } from './backends/backend-loaders';
import type { KernelFingerprint } from './kernel-fingerprint';

/** Two fingerprints of `backend`, taken one after the other in a fresh process (tfjs keeps one backend per process). */
function fingerprintsOf(backend: string, threads = 1): KernelFingerprint[] {
  const script = `
    const { initRuntime, kernelFingerprint } = require(${JSON.stringify(require.resolve('./index'))});
    initRuntime({ backend: ${JSON.stringify(backend)} })
      .then((runtime) => {
        const path = { backend: runtime.backend, threads: ${threads} };
        console.log(JSON.stringify([kernelFingerprint(path), kernelFingerprint(path)]));
      })
      .catch((error) => { console.error(error.message); process.exit(2); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as KernelFingerprint[];
}

test('the kernel fingerprint is the same on every call, and 16 hex digits', () => {
  const [first, second] = fingerprintsOf('cpu');
  assert.deepEqual(first, second);
  assert.match(first?.fingerprint ?? '', /^[0-9a-f]{16}$/);
});

test('cpu and wasm compute the fixed kernels to different bytes, and so differ in fingerprint', () => {
  const [cpu] = fingerprintsOf('cpu');
  const [wasm] = fingerprintsOf('wasm');
  assert.ok(cpu !== undefined && wasm !== undefined);
  // The reference JavaScript kernels and XNNPACK round differently: the outputs alone tell them apart.
  assert.notEqual(cpu.outputSha256, wasm.outputSha256);
  assert.notEqual(cpu.fingerprint, wasm.fingerprint);
});

test('the same bytes under another thread count are another fingerprint', () => {
  const [one] = fingerprintsOf('cpu', 1);
  const [four] = fingerprintsOf('cpu', 4);
  assert.ok(one !== undefined && four !== undefined);
  // Small kernels may not split across threads, but large reductions do: the count is part of the path.
  assert.equal(one.outputSha256, four.outputSha256);
  assert.notEqual(one.fingerprint, four.fingerprint);
});

test('native threads are fixed before the binding loads; a given count and explicit GPU settings are kept', () => {
  const unset: NodeJS.ProcessEnv = {};
  const threads = fixIntraOpThreads(unset);
  assert.ok(threads >= 1);
  assert.equal(unset['TF_NUM_INTRAOP_THREADS'], String(threads));
  assert.equal(fixIntraOpThreads({ TF_NUM_INTRAOP_THREADS: '3' }), 3);
  const bad: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: 'many' };
  assert.equal(fixIntraOpThreads(bad), threads);
  assert.equal(bad['TF_NUM_INTRAOP_THREADS'], String(threads));

  const gpu: NodeJS.ProcessEnv = {};
  requestDeterministicGpuKernels(gpu);
  assert.deepEqual(gpu, { TF_DETERMINISTIC_OPS: '1', TF_CUDNN_DETERMINISTIC: '1' });
  const chosen: NodeJS.ProcessEnv = { TF_DETERMINISTIC_OPS: '0' };
  requestDeterministicGpuKernels(chosen);
  assert.equal(chosen['TF_DETERMINISTIC_OPS'], '0');
});

test('a native backend reports the thread count it was started with', (t) => {
  const script = `
    const { initRuntime } = require(${JSON.stringify(require.resolve('./index'))});
    initRuntime({ backend: 'tensorflow', threads: 2 })
      .then((runtime) => console.log(JSON.stringify({ threads: runtime.threads, env: process.env.TF_NUM_INTRAOP_THREADS })))
      .catch((error) => { console.error(error.message); process.exit(2); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TF_NUM_INTRAOP_THREADS: '' } });
  if (result.status === 2 && /cannot be used/.test(result.stderr)) {
    t.skip('@tensorflow/tfjs-node is not installed here');
    return;
  }
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { threads: 2, env: '2' });
});
