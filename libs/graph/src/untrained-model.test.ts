import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildMlp, buildSmallCnn } from '@ippro/models';
import { loadLayersModelFromDir } from './model-io';
import { untrainedModelReason } from './untrained-model';

const MODELS = resolve(__dirname, '../../../models');

before(async () => {
  await tf.setBackend('cpu');
});

test('a freshly built model with batch norm looks untrained', () => {
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  assert.match(untrainedModelReason(model) ?? '', /every one of its 2 BatchNormalization layers still has its initial moving statistics \(mean 0, variance 1\)/);
  model.dispose();
});

test('the committed trained baselines do not, nor a model whose statistics moved, nor one without batch norm', async () => {
  for (const name of ['small-cifar10', 'resnet20-cifar10']) {
    const model = await loadLayersModelFromDir(join(MODELS, name));
    assert.equal(untrainedModelReason(model), undefined, name);
    model.dispose();
  }
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  const batchNorm = model.layers.find((layer) => layer.getClassName() === 'BatchNormalization');
  const [gamma, beta, mean, variance] = batchNorm?.getWeights() ?? [];
  batchNorm?.setWeights([gamma, beta, tf.add(mean as tf.Tensor, 0.01), variance] as tf.Tensor[]);
  assert.equal(untrainedModelReason(model), undefined, 'one moved statistic is enough');
  model.dispose();
  const plain = buildMlp({ inputShape: [6], hiddenUnits: [4], batchNorm: false, numClasses: 2 });
  assert.equal(untrainedModelReason(plain), undefined);
  plain.dispose();
});
