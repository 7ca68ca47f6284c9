export { removeGroups } from './remove-groups';
export { resolveRemovedGroups } from './removed-groups';
export type { GroupSelection } from './removed-groups';
export { keptChannelsPerLayer } from './kept-channels';
export type { KeptChannels } from './kept-channels';
export { SurgeryError } from './surgery-error';
export { survivingGroupIds } from './surviving-groups';
