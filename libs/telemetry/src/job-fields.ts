/** What a job id tells about its unit of work. */
export interface JobFields {
  jobId: string;
  /** The run (the workflow id). */
  runId?: string;
  round?: number;
  /** The unit within the round: `s3` (scoring shard), `m0/replica1` (fine-tuning), `eval2`. */
  shard?: string;
}

/**
 * Splits a job id of the pruning workflow, `<run>/r<round>/<shard>` (e.g. `prune-1/r2/s3`,
 * `prune-1/r2/m0/replica1`, `prune-1/r0/eval1`), into its run, round and shard; a job id of
 * another form is kept whole.
 */
export function jobFields(jobId: string): JobFields {
  const match = /^(.+?)\/r(\d+)\/(.+)$/.exec(jobId);
  if (match === null) return { jobId };
  return { jobId, runId: match[1] as string, round: Number(match[2]), shard: match[3] as string };
}
