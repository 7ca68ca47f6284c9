import type { ChannelGraph, ModelCost } from '@ippro/graph';

/** The cost of the model as it would be after removing `removedGroups` (group indices). */
export type CostFunction = (graph: ChannelGraph, removedGroups: ReadonlySet<number>) => ModelCost;
