import type { FaultStack, WorkerProcess } from './fault-stack';

/** A compute call as a worker logged it: `<Kind> <jobId>: started`, then `done in N ms` or `failed ...`. */
export interface StartedCall {
  worker: WorkerProcess;
  kind: string;
  jobId: string;
  startedAt: number;
}

/** What the helpers read: the current workers and every worker process started (a FaultStack or another deployment). */
export type WorkerLogs = Pick<FaultStack, 'workers' | 'allWorkerProcesses'>;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The first call of `kind` whose job id matches `job` (e.g. /run\/r1\/s\d+/) that a current
 * worker of the stack reports started after `since` (ms since the epoch; default now).
 */
export async function callStarted(stack: WorkerLogs, kind: string, job: RegExp, options: { since?: number; timeoutMs?: number } = {}): Promise<StartedCall> {
  const pattern = new RegExp(`^${escape(kind)} (${job.source}): started`);
  const since = options.since ?? Date.now();
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  for (;;) {
    for (const worker of stack.workers) {
      const line = worker.process.lines.find((candidate) => candidate.at >= since && pattern.test(candidate.text));
      if (line !== undefined) return { worker, kind, jobId: pattern.exec(line.text)?.[1] as string, startedAt: line.at };
    }
    if (Date.now() > deadline) throw new Error(`no worker started ${kind} ${job} within ${options.timeoutMs ?? 180_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `done in N ms` lines of a job, over every worker process the stack started. */
export function doneLines(stack: WorkerLogs, kind: string, jobId: string): { worker: string; ms: number }[] {
  const pattern = new RegExp(`^${escape(kind)} ${escape(jobId)}: done in (\\d+) ms`);
  return stack.allWorkerProcesses.flatMap((process) =>
    process.linesMatching(pattern).map((line) => ({ worker: process.name, ms: Number(pattern.exec(line.text)?.[1]) })),
  );
}

/** Whether a worker process logged that it finished the job. */
export function finishedOn(worker: WorkerProcess, kind: string, jobId: string): boolean {
  const pattern = new RegExp(`^${escape(kind)} ${escape(jobId)}: (done|failed|stopped)`);
  return worker.process.linesMatching(pattern).length > 0;
}
