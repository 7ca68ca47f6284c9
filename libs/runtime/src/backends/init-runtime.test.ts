import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { initRuntime } from './init-runtime';
import { parseBackendRequest, RuntimeInitError } from './backend-names';
import type { BackendLoaders, LoadOutcome } from './backend-loaders';

const unavailable = (why: string) => async (): Promise<LoadOutcome> => ({ ok: false, why });
const available = (detail: string) => async (): Promise<LoadOutcome> => ({ ok: true, detail });

function loaders(overrides: Partial<BackendLoaders>): BackendLoaders {
  return {
    'tensorflow-gpu': unavailable('@tensorflow/tfjs-node-gpu is not installed'),
    tensorflow: unavailable('@tensorflow/tfjs-node is not installed'),
    wasm: unavailable('the wasm backend did not start'),
    cpu: unavailable('the cpu backend did not start'),
    ...overrides,
  };
}

test('auto prefers the GPU binding whenever it loads', async () => {
  const info = await initRuntime({
    loaders: loaders({ 'tensorflow-gpu': available('gpu'), wasm: available('wasm') }),
  });
  assert.equal(info.backend, 'tensorflow-gpu');
  assert.equal(info.tfjsBackend, 'tensorflow');
});

test('auto falls back in order and says in one line why it passed each over', async () => {
  const reports: string[] = [];
  const info = await initRuntime({
    loaders: loaders({ wasm: available('XNNPACK'), cpu: available('reference') }),
    report: (line) => reports.push(line),
  });
  assert.equal(info.backend, 'wasm');
  assert.equal(reports.length, 1);
  assert.equal(
    reports[0],
    'backend: auto chose wasm: XNNPACK; tensorflow-gpu skipped: @tensorflow/tfjs-node-gpu is not' +
      ' installed; tensorflow skipped: @tensorflow/tfjs-node is not installed',
  );
  assert.ok(!reports[0]?.includes('\n'));
});

test('a named backend that cannot load is a clear error', async () => {
  await assert.rejects(initRuntime({ backend: 'tensorflow', loaders: loaders({}) }), {
    name: 'RuntimeInitError',
    message: "backend 'tensorflow' cannot be used: @tensorflow/tfjs-node is not installed",
  });
});

test('auto with nothing loadable names every reason', async () => {
  await assert.rejects(initRuntime({ loaders: loaders({}) }), (error: unknown) => {
    assert.ok(error instanceof RuntimeInitError);
    assert.match(error.message, /^no backend could start: tensorflow-gpu skipped: .* cpu skipped/);
    return true;
  });
});

test('an unknown backend name lists the valid ones', () => {
  assert.throws(() => parseBackendRequest('gpu'), {
    message: "unknown backend 'gpu': expected one of auto, tensorflow-gpu, tensorflow, wasm, cpu",
  });
  assert.equal(parseBackendRequest('wasm'), 'wasm');
});

/** Each real initialisation runs in its own process: tfjs keeps one backend per process. */
function runInFreshProcess(backend: string): { status: number | null; stdout: string; stderr: string } {
  const script = `
    const { initRuntime } = require(${JSON.stringify(require.resolve('../index'))});
    const tf = require('@tensorflow/tfjs-core');
    initRuntime({ backend: ${JSON.stringify(backend)}, report: (line) => console.log(line) })
      .then(() => console.log('sum=' + tf.sum(tf.add(tf.tensor1d([1, 2]), 3)).dataSync()[0]))
      .catch((error) => { console.error(error.name + ': ' + error.message); process.exit(2); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function isInstalled(packageName: string): boolean {
  try {
    execFileSync(process.execPath, ['-e', `require.resolve(${JSON.stringify(packageName)})`]);
    return true;
  } catch {
    return false;
  }
}

test('auto on this machine takes the fastest installed backend and computes', () => {
  const result = runInFreshProcess('auto');
  assert.equal(result.status, 0, result.stderr);
  const [summary, sum] = result.stdout.trim().split('\n');
  const expected = isInstalled('@tensorflow/tfjs-node-gpu')
    ? 'tensorflow-gpu'
    : isInstalled('@tensorflow/tfjs-node')
      ? 'tensorflow'
      : 'wasm';
  assert.match(summary ?? '', new RegExp(`^backend: auto chose ${expected}: `));
  if (!isInstalled('@tensorflow/tfjs-node-gpu')) {
    assert.match(summary ?? '', /tensorflow-gpu skipped: @tensorflow\/tfjs-node-gpu is not installed/);
  }
  assert.equal(sum, 'sum=9');
  assert.equal(result.stderr.includes('    at '), false, 'a fallback must not print a stack trace');
});

test('the cpu backend loads by name', () => {
  const result = runInFreshProcess('cpu');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^backend: using cpu as requested: /);
  assert.match(result.stdout, /sum=9/);
});

test('a missing native backend asked for by name fails with one clear line', (context) => {
  if (isInstalled('@tensorflow/tfjs-node-gpu')) {
    context.skip('@tensorflow/tfjs-node-gpu is installed here');
    return;
  }
  const result = runInFreshProcess('tensorflow-gpu');
  assert.equal(result.status, 2);
  assert.equal(
    result.stderr.trim(),
    "RuntimeInitError: backend 'tensorflow-gpu' cannot be used: @tensorflow/tfjs-node-gpu is not installed",
  );
});

test('the native backend comes up with the native training kernels registered', (context) => {
  if (!isInstalled('@tensorflow/tfjs-node')) {
    context.skip('@tensorflow/tfjs-node is not installed (npm run setup:native installs it)');
    return;
  }
  const script = `
    const { initRuntime, nativeTrainingKernels } = require(${JSON.stringify(require.resolve('../index'))});
    const tf = require('@tensorflow/tfjs-core');
    initRuntime({ backend: 'tensorflow' })
      .then(() => console.log(nativeTrainingKernels.map((k) => k.kernelName + '=' + (tf.getKernel(k.kernelName, 'tensorflow') === k)).join(' ')))
      .catch((error) => { console.error(error.message); process.exit(2); });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const registered = result.stdout.trim().split(' ');
  assert.ok(registered.includes('FusedBatchNormV3=true'));
  assert.ok(registered.includes('ReluGrad=true'));
  assert.ok(registered.every((entry) => entry.endsWith('=true')), result.stdout);
});
