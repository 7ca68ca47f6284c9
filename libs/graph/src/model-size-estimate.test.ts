import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '@ippro/models';
import { loadLayersModelFromDir, saveLayersModelToDir } from './model-io';
import { DEFAULT_MAX_MODEL_PARAMS, ModelTooLargeError, checkModelSize, estimateModelSize, modelLimits, setModelLimits } from './model-size-estimate';
import { proscoreFixtureDir } from './testing/fixture-location';
import { concatModel, depthwiseModel, flattenModel, separableModel, smallVgg } from './testing/small-models';

let scratch: string;

before(async () => {
  await tf.setBackend('cpu');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ippro-model-size-'));
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The topology tfjs writes for a model, as a model.json holds it. */
function topologyOf(model: tfl.LayersModel): unknown {
  return JSON.parse(JSON.stringify(model.toJSON(null, false)));
}

/** Float32 bytes of every layer's output for one example, from the built model. */
function builtActivationBytes(model: tfl.LayersModel): number {
  return model.layers.reduce((sum, layer) => {
    const shape = layer.outputShape as (number | null)[];
    return sum + shape.slice(1).reduce<number>((acc, extent) => acc * (extent ?? 0), 1) * 4;
  }, 0);
}

/** A model.json of an input of `inputShape` followed by `layers` (Keras config form), with an empty manifest. */
function writeModelJson(dir: string, inputShape: (number | null)[], layers: { class_name: string; config: Record<string, unknown> }[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const topology = {
    class_name: 'Sequential',
    config: { name: 'attack', layers: layers.map((layer, index) => (index === 0 ? { ...layer, config: { ...layer.config, batch_input_shape: [null, ...inputShape] } } : layer)) },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: [] }));
}

describe('estimateModelSize', () => {
  it('equals countParams and the layer outputs of the built model, for every zoo architecture and the test models', () => {
    const models: [string, tfl.LayersModel][] = [
      ['resnet20', buildModel('resnet20', { numClasses: 10 })],
      ['vgg11', buildModel('vgg11', { numClasses: 10 })],
      ['mobilenetv2', buildModel('mobilenetv2', { numClasses: 10 })],
      ['small-cnn', buildModel('small-cnn', { numClasses: 10 })],
      ['mlp', buildModel('mlp', { numClasses: 10 })],
      ['concat', concatModel()],
      ['depthwise', depthwiseModel(2)],
      ['separable', separableModel()],
      ['flatten', flattenModel()],
      ['small-vgg', smallVgg()],
    ];
    for (const [name, model] of models) {
      // The config alone gives the count, except a SeparableConv2D's depth multiplier, which
      // tfjs 4.22 leaves out of its config: the manifest's depthwise kernel gives it.
      const weightSpecs = name === 'separable' ? model.weights.map((weight) => ({ name: weight.originalName, shape: weight.shape as number[], dtype: 'float32' as const })) : [];
      const estimate = estimateModelSize(topologyOf(model), weightSpecs);
      assert.equal(estimate.params, model.countParams(), `${name}: parameters`);
      assert.equal(estimate.activationBytes, builtActivationBytes(model), `${name}: activation bytes`);
      model.dispose();
    }
  });

  it('counts a layer it has no rule for by its weights in the manifest', () => {
    const model = separableModel();
    const topology = topologyOf(model) as { config: { layers: { class_name: string }[] } };
    const weightSpecs = model.weights.map((weight) => ({ name: weight.originalName, shape: weight.shape as number[], dtype: 'float32' as const }));
    for (const layer of topology.config.layers) if (layer.class_name === 'SeparableConv2D') layer.class_name = 'SomeFutureConv';
    assert.equal(estimateModelSize(topology, weightSpecs).params, model.countParams());
    assert.ok(estimateModelSize(topology).params < model.countParams(), 'without the manifest the unknown layer counts nothing');
    model.dispose();
  });
});

describe('models refused before they are built', () => {
  it('a Dense layer of 2^30 units: refused from model.json before any tensor exists, naming the layer and the flag', async () => {
    const dir = path.join(scratch, 'huge-dense');
    writeModelJson(dir, [64], [{ class_name: 'Dense', config: { name: 'wide', units: 2 ** 30, use_bias: true } }]);
    const tensors = tf.memory().numTensors;
    await assert.rejects(loadLayersModelFromDir(dir), (error: Error) => {
      assert.ok(error instanceof ModelTooLargeError, error.message);
      assert.match(error.message, /model\.json: the model has at least 6\.98e\+10 parameters, above the limit of 2\.00e\+9; the largest layer is "wide" \(Dense, 6\.98e\+10\) \(--max-model-params raises the limit\)/);
      return true;
    });
    assert.equal(tf.memory().numTensors, tensors, 'nothing was allocated');
  });

  it('huge activations: a convolution over a 16384x16384 input is refused by --max-activation-bytes', async () => {
    const dir = path.join(scratch, 'huge-activations');
    writeModelJson(dir, [16384, 16384, 3], [{ class_name: 'Conv2D', config: { name: 'conv', filters: 8, kernel_size: [3, 3], strides: [1, 1], padding: 'same', use_bias: true } }]);
    await assert.rejects(loadLayersModelFromDir(dir), /layer outputs take at least 8\.59e\+9 bytes per example, above the limit of 4\.29e\+9 \(--max-activation-bytes raises the limit\)/);
  });

  it('the limits are the process\'s until it sets others; explicit limits override them', () => {
    const model = smallVgg();
    const topology = topologyOf(model);
    const params = model.countParams();
    assert.equal(modelLimits().maxParams, DEFAULT_MAX_MODEL_PARAMS);
    assert.throws(() => checkModelSize(topology, [], 'small-vgg', { maxParams: params - 1, maxActivationBytes: 0 }), new RegExp(`at least ${params} parameters, above the limit of ${params - 1}`));
    checkModelSize(topology, [], 'small-vgg', { maxParams: params, maxActivationBytes: 0 });
    const saved = modelLimits();
    try {
      setModelLimits({ maxParams: 10, maxActivationBytes: 0 });
      assert.throws(() => checkModelSize(topology, [], 'small-vgg'), ModelTooLargeError);
    } finally {
      setModelLimits(saved);
    }
    model.dispose();
  });
});

describe('weights paths', () => {
  it('a weights file that is a symbolic link out of the model directory is refused, naming where it leads', async () => {
    const dir = path.join(scratch, 'linked');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(proscoreFixtureDir(), 'model.json'), path.join(dir, 'model.json'));
    const outside = path.join(scratch, 'outside.bin');
    fs.copyFileSync(path.join(proscoreFixtureDir(), 'weights.bin'), outside);
    fs.symlinkSync(outside, path.join(dir, 'weights.bin'));
    await assert.rejects(loadLayersModelFromDir(dir), new RegExp(`weights path "weights.bin" is a symbolic link to ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, outside the model directory`));
    // A link that stays inside the directory loads.
    fs.rmSync(path.join(dir, 'weights.bin'));
    fs.renameSync(outside, path.join(dir, 'real-weights.bin'));
    fs.symlinkSync('real-weights.bin', path.join(dir, 'weights.bin'));
    const model = await loadLayersModelFromDir(dir);
    const saved = path.join(scratch, 'saved');
    await saveLayersModelToDir(model, saved);
    model.dispose();
  });
});
