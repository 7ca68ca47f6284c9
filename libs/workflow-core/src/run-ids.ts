/** The workflow id of the pruneModel run a scheduled firing (`scheduled-<schedule>-<time>`) starts as its child. */
export function scheduledPruneRunId(scheduledRunId: string): string {
  return `${scheduledRunId}/prune`;
}
