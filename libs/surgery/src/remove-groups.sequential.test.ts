import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildSequentialNet } from './testing/small-models';
import { randomRemoval } from './testing/random-removal';
import { removeGroups } from './remove-groups';
import { preparedModel } from './testing/surgery-properties';
import { registerSurgeryPropertyTests } from './testing/property-tests';

// Properties of removeGroups on a Sequential model, with a Dropout between Flatten and Dense.

registerSurgeryPropertyTests(buildSequentialNet);

test('a Sequential model stays Sequential', () => {
  const { model, graph } = preparedModel(buildSequentialNet, 9);
  const pruned = removeGroups(model, graph, randomRemoval(graph, 9, 0.5));
  assert.ok(pruned instanceof tfl.Sequential);
  pruned.dispose();
  model.dispose();
});
