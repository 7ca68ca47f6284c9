import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelGroup } from '@ippro/graph';
import { layersTouched, unitChannelsByLayer } from './group-unit-layers';

/** Channel 3 of a conv, its batch norm, and the two depthwise outputs it feeds (multiplier 2). */
const depthwiseGroup: ChannelGroup = {
  id: 'conv:3',
  index: 7,
  kind: 'channel',
  members: [
    { layer: 'conv', channel: 3, kind: 'kernel', injectionLayer: 'bn' },
    { layer: 'bn', channel: 3, kind: 'batchnorm' },
    { layer: 'dw', channel: 6, kind: 'depthwise' },
    { layer: 'dw', channel: 7, kind: 'depthwise' },
  ],
  channels: [
    { layer: 'conv', channel: 3 },
    { layer: 'bn', channel: 3 },
    { layer: 'relu', channel: 3 },
    { layer: 'dw', channel: 6 },
    { layer: 'dw', channel: 7 },
  ],
  prunable: true,
};

test('a group is in the layers of its unit members, taking one channel per unit', () => {
  assert.deepEqual([...unitChannelsByLayer(depthwiseGroup)], [
    ['conv', 1],
    ['dw', 2],
  ]);
});

test('a group touches every layer holding one of its members or channels', () => {
  assert.deepEqual([...layersTouched(depthwiseGroup)].sort(), ['bn', 'conv', 'dw', 'relu']);
});
