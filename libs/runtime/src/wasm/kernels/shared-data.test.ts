import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients; tfjs-layers registers them on load.
import '@tensorflow/tfjs-layers';
import { identityWasmConfig } from './identity';
import { castWasmConfig } from './cast';
import { installWasmKernel } from '../../testing/cpu-reference';
import { onBackend, useBackends } from '../../testing/backends';
import { candidateBackends } from '../../testing/native';

function wasmDataIds(): number {
  return tf.engine().findBackend('wasm').numDataIds();
}

test.before(async () => {
  await useBackends();
  installWasmKernel(identityWasmConfig);
  installWasmKernel(castWasmConfig);
});

const noOps: [string, (x: tf.Tensor) => tf.Tensor][] = [
  ['Identity (clone)', (x) => tf.clone(x)],
  ['same-type Cast', (x) => tf.cast(x, x.dtype)],
];

for (const [name, op] of noOps) {
  test(`${name} shares data, survives disposal of its input and frees it last`, async () => {
    await onBackend('wasm', async () => {
      const before = wasmDataIds();
      const x = tf.tensor([1.5, -2, 3, 4], [2, 2]);
      const y = op(x);
      assert.equal(wasmDataIds(), before + 1, 'no second buffer');
      x.dispose();
      assert.deepEqual(Array.from(await y.data()), [1.5, -2, 3, 4]);
      assert.deepEqual(y.shape, [2, 2]);
      y.dispose();
      assert.equal(wasmDataIds(), before, 'buffer freed with the last tensor');
    });
  });
}

for (const { backend, skip } of candidateBackends()) {
  test(`type-changing Cast and int32 clones still produce correct values on ${backend}`, { skip }, async () => {
    await onBackend(backend, async () => {
      const x = tf.tensor([1.7, -2.2, 0], [3]);
      assert.deepEqual(Array.from(await tf.cast(x, 'int32').data()), [1, -2, 0]);
      assert.deepEqual(Array.from(await tf.clone(tf.tensor([1, 2], [2], 'int32')).data()), [1, 2]);
    });
  });

  test(`gradients through clone are unchanged on ${backend}`, { skip }, async () => {
    await onBackend(backend, async () => {
      const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.clone(x), x));
      const dx = tf.grad(f)(tf.tensor([1, 2, 3]));
      assert.deepEqual(Array.from(await dx.data()), [2, 4, 6]);
    });
  });
}
