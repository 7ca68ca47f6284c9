import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph } from '@ippro/graph';
import { buildModel, MODEL_ARCHITECTURES } from '@ippro/models';

// Lives here, not in libs/models: @ippro/graph already depends on @ippro/models (for its tests).

before(async () => {
  await tf.setBackend('cpu');
});

test('every zoo architecture has a channel graph without frozen layers', () => {
  for (const arch of MODEL_ARCHITECTURES) {
    const model = buildModel(arch);
    const graph = buildChannelGraph(model, { unknownLayers: 'error' });
    const frozenLayers = graph.layers.filter((layer) => layer.role === 'frozen').map((layer) => layer.name);
    assert.deepEqual(frozenLayers, [], `${arch}: frozen layers`);
    const unprunable = graph.groups.filter((group) => !group.prunable);
    for (const group of unprunable) {
      assert.match(group.frozenReason ?? '', /model input "image"|output layer "classifier"/, `${arch}: ${group.id} is unprunable: ${group.frozenReason}`);
    }
    assert.equal(unprunable.length, 3 + 10, `${arch}: only the 3 image channels and the 10 classes are fixed`);
    assert.ok(graph.groups.length > unprunable.length, `${arch}: has prunable groups`);
    model.dispose();
  }
});
