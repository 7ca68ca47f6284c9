import type { ChannelGraph } from '@ippro/graph';
import { SurgeryError } from './surgery-error';

/** Groups to remove: indices into `ChannelGraph.groups`, or group ids such as 'stage1_add:3'. */
export type GroupSelection = ReadonlySet<number> | Iterable<number | string>;

function groupIndexOf(graph: ChannelGraph, ref: number | string, indexById: Map<string, number>): number {
  if (typeof ref === 'string') {
    const index = indexById.get(ref);
    if (index === undefined) {
      throw new SurgeryError(`unknown group id '${ref}' in model '${graph.modelName}'`);
    }
    return index;
  }
  if (!Number.isInteger(ref) || ref < 0 || ref >= graph.groups.length) {
    throw new SurgeryError(
      `group index ${ref} is not an integer in [0, ${graph.groups.length}) for model '${graph.modelName}'`,
    );
  }
  return ref;
}

/**
 * Turns a selection of group indices or ids into a set of group indices, refusing anything
 * the graph says can never be removed.
 */
export function resolveRemovedGroups(graph: ChannelGraph, selection: GroupSelection): Set<number> {
  if (typeof selection === 'string') {
    // A lone id is itself iterable (as characters): refuse it rather than look up 's', 't', ...
    throw new SurgeryError(`groups to remove must be a collection of indices or ids, got the single string '${selection}'`);
  }
  const indexById = new Map(graph.groups.map((group) => [group.id, group.index]));
  const removed = new Set<number>();
  for (const ref of selection) {
    const index = groupIndexOf(graph, ref, indexById);
    const group = graph.groups[index];
    if (!group.prunable) {
      throw new SurgeryError(
        `group '${group.id}' cannot be removed: ${group.frozenReason ?? 'the graph marks it unprunable'}`,
      );
    }
    removed.add(index);
  }
  return removed;
}
