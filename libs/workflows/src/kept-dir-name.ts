/** A directory name from a workflow id (schedule firings carry their time: `scheduled-nightly-2025-01-02T02:00:00Z`). */
export function keptDirName(workflowId: string): string {
  const name = workflowId.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return name === '' ? 'run' : name;
}
