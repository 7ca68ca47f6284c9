export type {
  AttentionGeometry,
  ChannelGraph,
  ChannelGroup,
  ChannelRef,
  GroupKind,
  GroupMember,
  LayerNode,
  LayerRole,
  MemberKind,
} from './channel-graph';
export { GROUP_KINDS, headsNodeName, isTokenSequence, isUnitKind, isUnitMember, unitNodeName } from './channel-graph';
export { buildChannelGraph } from './build-channel-graph';
export type { BuildChannelGraphOptions } from './build-channel-graph';
export { modelCost } from './model-cost';
export type { ModelCost } from './model-cost';
export { describeGraph } from './describe-graph';
export type { GraphSummary, GroupSummary, LayerSummary } from './describe-graph';
export { applyWithTaps } from './execute-with-taps';
export type { ApplyWithTapsOptions, LayerTap } from './execute-with-taps';
export { loadLayersModelFromDir, saveLayersModelToDir } from './model-io';
export { fileSystemIOHandler } from './fs-io-handler';
export { validateModelWeights } from './validate-weights';
export { checkLayerGraph } from './layer-graph-check';
export { repairSeparableDepthMultipliers } from './separable-config-repair';
export { knownLayerClasses } from './layer-classes';
export {
  DEFAULT_MAX_ACTIVATION_BYTES,
  DEFAULT_MAX_MODEL_PARAMS,
  MODEL_LIMIT_SETTINGS,
  ModelTooLargeError,
  checkModelSize,
  estimateModelSize,
  modelLimits,
  modelLimitsOf,
  setModelLimits,
} from './model-size-estimate';
export type { LayerEstimate, ModelLimits, ModelSizeEstimate } from './model-size-estimate';
export { untrainedModelReason } from './untrained-model';
export { batchNormalizationLayers, isBatchNormalization } from './batch-norm-layers';
