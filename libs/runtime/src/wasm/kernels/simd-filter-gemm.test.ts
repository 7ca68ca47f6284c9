import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { backendDataIds, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { filterGemmFor, filterGemmModuleBytes } from './simd-filter-gemm';

before(async () => {
  await useBackends();
});

test('the module is valid wasm with SIMD', () => {
  const api = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  assert.ok(api.validate(filterGemmModuleBytes()));
});

test('gemm accumulates x^T · dy over strided rows and writes nothing else', async () => {
  await onBackend('wasm', () => {
    const backend = tf.backend() as BackendWasm;
    const gemm = filterGemmFor(backend);
    assert.ok(gemm, 'SIMD gemm available on this engine');
    assert.equal(filterGemmFor(backend), gemm, 'one instance per heap');
    const random = seededRandom(5);
    const dataIdsBefore = backendDataIds('wasm');
    for (const [rows, channels, outChannels] of [
      [0, 4, 8],
      [1, 4, 8],
      [37, 8, 16],
      [129, 16, 8],
    ] as const) {
      const xStride = channels + 3;
      const dyStride = outChannels + 5;
      const x = randomValues([Math.max(rows, 1) * xStride], random);
      const dy = randomValues([Math.max(rows, 1) * dyStride], random);
      const start = randomValues([channels * outChannels], random);
      // One guard value on each side of the output.
      const outValues = new Float32Array([7, ...start, 7]);
      const infos = [x, dy, outValues].map((values) => backend.makeOutput([values.length], 'float32'));
      infos.forEach((info, i) => backend.typedArrayFromHeap(info).set([x, dy, outValues][i]));
      const address = (i: number): number => backend.dataIdMap.get(infos[i].dataId).memoryOffset;
      gemm(address(0), address(1), address(2) + 4, rows, xStride * 4, dyStride * 4, channels, outChannels);
      const result = Float32Array.from(backend.typedArrayFromHeap(infos[2]));
      assert.equal(result[0], 7);
      assert.equal(result[result.length - 1], 7);
      let maxDiff = 0;
      for (let c = 0; c < channels; c++) {
        for (let k = 0; k < outChannels; k++) {
          let expected = start[c * outChannels + k];
          for (let r = 0; r < rows; r++) {
            expected += x[r * xStride + c] * dy[r * dyStride + k];
          }
          maxDiff = Math.max(maxDiff, Math.abs(result[1 + c * outChannels + k] - expected));
        }
      }
      assert.ok(maxDiff <= 1e-4, `rows ${rows}, ${channels}x${outChannels}: max |diff| ${maxDiff}`);
      infos.forEach((info) => backend.disposeData(info.dataId));
    }
    assert.equal(backendDataIds('wasm'), dataIdsBefore);
  });
});
