import assert from 'node:assert/strict';
import { test } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { modelOutput } from './output-kind';

function classifier(last: tfl.layers.Layer): tfl.LayersModel {
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers.dense({ units: 3 }).apply(input) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: last.apply(hidden) as tfl.SymbolicTensor });
}

test('the output kind is read from the layer that produces the output', () => {
  assert.deepEqual(modelOutput(classifier(tfl.layers.dense({ units: 5, activation: 'softmax' }))), { kind: 'softmax', activation: 'softmax', units: 5 });
  assert.deepEqual(modelOutput(classifier(tfl.layers.dense({ units: 1, activation: 'sigmoid' }))), { kind: 'sigmoid', activation: 'sigmoid', units: 1 });
  assert.deepEqual(modelOutput(classifier(tfl.layers.dense({ units: 7 }))), { kind: 'linear', activation: 'linear', units: 7 });
  assert.deepEqual(modelOutput(classifier(tfl.layers.softmax())), { kind: 'softmax', activation: 'softmax', units: 3 });
  assert.deepEqual(modelOutput(classifier(tfl.layers.activation({ activation: 'relu' }))), { kind: 'other', activation: 'relu', units: 3 });
  assert.deepEqual(modelOutput(classifier(tfl.layers.dropout({ rate: 0.5 }))), { kind: 'linear', activation: 'Dropout', units: 3 });
});
