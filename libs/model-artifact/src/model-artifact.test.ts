import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { JsonDataset, batchArraysAt, resolveDataset } from '@ippro/data';
import { writeFileSync, mkdirSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { LabeledDataset } from '@ippro/data';
import { loadLayersModelFromDir } from '@ippro/graph';
import { buildSmallCnn } from '@ippro/models';
import {
  ArtifactFormatError,
  datasetFromArtifact,
  datasetToArtifact,
  modelArtifactFromDir,
  modelArtifactParts,
  modelFromArtifact,
  modelToArtifact,
  packModelArtifact,
  writeModelArtifactToDir,
} from './index';

const FIXTURE = resolve(__dirname, '../../../../shared/fixtures/proscore-mlp');
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  await tf.setBackend('cpu');
});

describe('model artifacts', () => {
  it('round-trips a model with byte-identical artifacts and equal predictions', async () => {
    const model = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 3 });
    const bytes = modelToArtifact(model);
    assert.equal(bytes.toString('latin1', 0, 4), 'IPMA');
    const back = await modelFromArtifact(bytes);
    assert.equal(sha(modelToArtifact(back)), sha(bytes));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (back.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(b), Array.from(a));
    // The same architecture and seed built again gives the same id.
    assert.equal(sha(modelToArtifact(buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 3 }))), sha(bytes));
    assert.notEqual(sha(modelToArtifact(buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 4 }))), sha(bytes));
  });

  it('converts a model directory and back into a loadable directory', async () => {
    const bytes = await modelArtifactFromDir(FIXTURE);
    const dir = mkdtempSync(join(tmpdir(), 'ippro-model-artifact-'));
    try {
      writeModelArtifactToDir(bytes, dir);
      const loaded = await loadLayersModelFromDir(dir);
      assert.equal(sha(modelToArtifact(loaded)), sha(bytes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a non-finite weight naming the layer, and malformed envelopes', async () => {
    const bytes = await modelArtifactFromDir(FIXTURE);
    const parts = modelArtifactParts(await modelFromArtifact(bytes));
    const specs = parts.modelJson.weightsManifest[0]?.weights ?? [];
    let offset = 0;
    for (const spec of specs) {
      if (spec.name === 'dense2/kernel') break;
      offset += spec.shape.reduce((a, b) => a * b, 1) * 4;
    }
    const weights = new Uint8Array(parts.weights);
    new DataView(weights.buffer).setFloat32(offset + 4, Number.NaN, true);
    await assert.rejects(modelFromArtifact(packModelArtifact({ ...parts, weights })), (error: Error) => {
      assert.ok(error instanceof ArtifactFormatError);
      assert.match(error.message, /Layer "dense2"/);
      return true;
    });
    await assert.rejects(modelFromArtifact(bytes.subarray(0, bytes.length - 4)), /weights take \d+ bytes, but the manifest lists/);
    await assert.rejects(modelFromArtifact(Buffer.from('not a model at all')), /not a model artifact/);
    const topology = JSON.parse(JSON.stringify(parts.modelJson.modelTopology)) as { config: { layers: { class_name: string }[] } };
    const layer = topology.config.layers[1];
    assert.ok(layer);
    layer.class_name = 'EvilLambda';
    await assert.rejects(
      modelFromArtifact(packModelArtifact({ modelJson: { ...parts.modelJson, modelTopology: topology }, weights: parts.weights })),
      (error: Error) => error instanceof ArtifactFormatError && /EvilLambda/.test(error.message),
    );
  });
});

describe('dataset artifacts', () => {
  it('round-trips the fixture data and a CIFAR-shaped synthetic set batch for batch', () => {
    for (const dataset of <LabeledDataset[]>[JsonDataset.read(join(FIXTURE, 'data.json')), resolveDataset('synthetic:cifar?n=10&seed=2&classes=4')]) {
      const bytes = datasetToArtifact(dataset);
      assert.equal(sha(datasetToArtifact(dataset)), sha(bytes));
      const back = datasetFromArtifact(bytes, { description: 'artifact:x' });
      assert.equal(back.description, 'artifact:x');
      assert.deepEqual([back.size, back.numClasses, [...back.sampleShape]], [dataset.size, dataset.numClasses, [...dataset.sampleShape]]);
      assert.deepEqual(back.normalization, dataset.normalization);
      const a = batchArraysAt(dataset, { batchSize: 4, index: 1 });
      const b = batchArraysAt(back, { batchSize: 4, index: 1 });
      assert.deepEqual(Array.from(b.x), Array.from(a.x));
      assert.deepEqual(Array.from(b.labels), Array.from(a.labels));
    }
  });

  it('refuses bad labels and truncated artifacts', () => {
    const bytes = datasetToArtifact(JsonDataset.read(join(FIXTURE, 'data.json')));
    assert.throws(() => datasetFromArtifact(bytes.subarray(0, bytes.length - 1)), /needs \d+/);
    const broken = Buffer.from(bytes);
    broken.writeInt32LE(7, broken.length - 4);
    assert.throws(() => datasetFromArtifact(broken), /label 31 is 7, outside 0..2/);
  });

  it('keeps version 1 bytes for float samples with class labels', () => {
    const dataset = JsonDataset.read(join(FIXTURE, 'data.json'));
    const bytes = datasetToArtifact(dataset);
    assert.equal(bytes.readUInt32LE(4), 1);
    const header = bytes.readUInt32LE(8);
    assert.equal(bytes.length, 12 + header + dataset.size * 6 * 4 + dataset.size * 4);
    assert.doesNotMatch(bytes.toString('utf8', 12, 12 + header), /sampleType|labelType/);
  });

  it('stores image bytes as bytes and multi-hot labels as bytes (version 2), batching exactly like the source', () => {
    const root = mkdtempSync(join(tmpdir(), 'ippro-images-'));
    try {
      for (const [folder, count] of [['cat', 40], ['dog', 24]] as const) {
        mkdirSync(join(root, folder));
        for (let i = 0; i < count; i += 1) {
          const png = new PNG({ width: 32, height: 32 });
          for (let p = 0; p < png.data.length; p += 1) png.data[p] = p % 4 === 3 ? 255 : (p * 7 + i * 13 + folder.length) % 256;
          writeFileSync(join(root, folder, `${String(i).padStart(3, '0')}.png`), PNG.sync.write(png, { colorType: 2 }));
        }
      }
      const images = resolveDataset(`images:${root}?normalize=mean=0.5,0.4,0.3,std=0.25,0.25,0.25`);
      const bytes = datasetToArtifact(images);
      const header = bytes.readUInt32LE(8);
      assert.equal(bytes.readUInt32LE(4), 2);
      assert.equal(bytes.length, 12 + header + 64 * 32 * 32 * 3 + 64 * 4, 'one byte per value, an int32 per label');
      const back = datasetFromArtifact(bytes);
      assert.deepEqual(back.normalization, images.normalization);
      for (const index of [0, 1]) {
        const a = batchArraysAt(images, { batchSize: 48, index });
        const b = batchArraysAt(back, { batchSize: 48, index });
        assert.deepEqual(Array.from(b.x), Array.from(a.x));
        assert.deepEqual(Array.from(b.labels), Array.from(a.labels));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    const multi = resolveDataset(`npz:${resolve(__dirname, '../../data/src/testing/fixtures/numpy-savez-compressed.npz')}`);
    const back = datasetFromArtifact(datasetToArtifact(multi));
    assert.equal(datasetToArtifact(multi).readUInt32LE(4), 2);
    assert.deepEqual(Array.from(batchArraysAt(back, { batchSize: 5, index: 0 }).y), Array.from(batchArraysAt(multi, { batchSize: 5, index: 0 }).y));
    assert.throws(() => back.label(0), /multi-hot/);
  });

  it('a CIFAR-10 range travels as bytes and batches exactly as the files do', (t) => {
    const dir = resolve(__dirname, '../../../../shared/datasets/cifar10');
    let range: LabeledDataset;
    try {
      range = resolveDataset('cifar10:test[100:164]', { cifar10Dir: dir });
      range.label(0);
    } catch {
      return t.skip('real CIFAR-10 not found at ../shared/datasets/cifar10');
    }
    const bytes = datasetToArtifact(range);
    assert.ok(bytes.length < 64 * 3072 + 4096, `${bytes.length} bytes`);
    const back = datasetFromArtifact(bytes);
    const a = batchArraysAt(range, { batchSize: 64, index: 0, augment: true, shuffle: true, seed: 3 });
    const b = batchArraysAt(back, { batchSize: 64, index: 0, augment: true, shuffle: true, seed: 3 });
    assert.deepEqual(Array.from(b.x), Array.from(a.x));
    assert.deepEqual(Array.from(b.y), Array.from(a.y));
  });
});
