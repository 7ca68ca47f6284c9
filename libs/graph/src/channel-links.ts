import type { LayerNode } from './channel-graph';
import type { ChannelSpace } from './channel-space';

function tieSameIndex(space: ChannelSpace, node: LayerNode, input: string): void {
  for (let c = 0; c < node.outputChannels; c++) space.tie(node.name, c, input, c);
}

function tieDepthwise(space: ChannelSpace, node: LayerNode): void {
  const multiplier = node.depthMultiplier as number;
  for (let c = 0; c < node.outputChannels; c++) space.tie(node.name, c, node.inputs[0], Math.floor(c / multiplier));
}

function tieConcatenated(space: ChannelSpace, node: LayerNode, inputChannels: (name: string) => number): void {
  let offset = 0;
  for (const input of node.inputs) {
    const channels = inputChannels(input);
    for (let c = 0; c < channels; c++) space.tie(node.name, offset + c, input, c);
    offset += channels;
  }
}

/**
 * Joins the output channels of `node` with the input channels they are computed from, and
 * records why channels can never be removed. `allInputs` lists the inputs of every call
 * (more than `node.inputs` for a shared layer).
 */
export function linkLayerChannels(
  space: ChannelSpace,
  node: LayerNode,
  allInputs: readonly string[],
  inputChannels: (name: string) => number,
): void {
  switch (node.role) {
    case 'input':
      space.freezeLayer(node.name, `touches model input "${node.name}"`);
      break;
    case 'producer':
      if (node.frozenReason !== undefined) space.freezeLayer(node.name, node.frozenReason);
      break;
    case 'attention-heads':
    case 'attention':
      // New channels (heads; the output projection's): nothing to tie.
      break;
    case 'depthwise':
      tieDepthwise(space, node);
      break;
    case 'normalization':
    case 'layer-normalization':
    case 'token':
    case 'passthrough':
    case 'flatten':
      tieSameIndex(space, node, node.inputs[0]);
      break;
    case 'elementwise':
      for (const input of node.inputs) tieSameIndex(space, node, input);
      break;
    case 'concatenate':
      tieConcatenated(space, node, inputChannels);
      break;
    case 'frozen': {
      const reason = `touches frozen layer "${node.name}" (${node.className}), which ${node.frozenReason ?? 'is not understood'}`;
      for (const input of allInputs) space.freezeLayer(input, reason);
      space.freezeLayer(node.name, reason);
      break;
    }
  }
}
