import type { ArtifactStorage } from '@ippro/artifact-store';
import { RunProgress, pinOf, pinnedToFingerprint, runPruneRounds } from '@ippro/workflow-core';
import type { PruneCarry, PrunePhase, PruneProgress, PruneWorkflowInput, PruneWorkflowResult, RunningWork } from '@ippro/workflow-core';
import type { ComputeExecutor } from './compute-executor';
import { InProcessExecutor } from './in-process-executor';
import { createPruneActivities } from './prune-activities';

export interface InProcessRunOptions {
  store: ArtifactStorage;
  /** Default an InProcessExecutor over `store`. */
  executor?: ComputeExecutor;
  cifar10Dir?: string;
  /** Names the run in compute job ids; default 'local'. */
  runId?: string;
  onProgress?: (phase: PrunePhase, done: number, total: number) => void;
  /** Called at every round boundary; 'cancel' stops with the last finished round. */
  atBoundary?: (carry: PruneCarry) => Promise<'continue' | 'cancel'>;
}

/** A run in this process, and what a live view of it reads (as a client reads a workflow's query and pending activities). */
export interface InProcessRun {
  result: Promise<PruneWorkflowResult>;
  /** What the workflow's `progress` query would answer now. */
  progress(): PruneProgress;
  /** The compute calls running now, as their heartbeats would report them. */
  running(): RunningWork[];
}

/**
 * The pruneModel workflow's algorithm without Temporal: the same round logic
 * (@ippro/workflow-core's runPruneRounds) calling the same activity functions with the same
 * inputs in the same order, so its artifacts equal the workflow's byte for byte. This is what
 * `ippro prune --local` runs.
 */
export function startPruneInProcess(input: PruneWorkflowInput, options: InProcessRunOptions): InProcessRun {
  const executor =
    options.executor ?? new InProcessExecutor({ store: options.store, ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }) });
  const calls = new Map<string, RunningWork>();
  const activities = createPruneActivities({
    store: options.store,
    executor,
    ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }),
    onComputeProgress: ({ activity, jobId }, progress) => {
      if (progress === undefined) {
        calls.delete(jobId);
        return;
      }
      const startedAt = calls.get(jobId)?.startedAt ?? Date.now();
      const { done, total, samples, worker } = progress;
      calls.set(jobId, { activity, done, total, samples, startedAt, worker: worker ?? 'this process' });
    },
  });
  const progress = new RunProgress(input);
  // As the workflow: the run's compute calls stay on the numeric path the pool computes with when it starts.
  const result = activities.poolFingerprint({}).then(pinOf).then((pin) => runPruneRounds(
    input,
    {
      activities: pinnedToFingerprint(activities, pin.fingerprint),
      jobPrefix: options.runId ?? 'local',
      roundStarted: (clock) => progress.roundStarted(clock),
      report: (phase, done, total) => {
        progress.report(phase, done, total);
        options.onProgress?.(phase, done, total);
      },
    },
    async (carry) => {
      progress.atBoundary(carry);
      return options.atBoundary === undefined ? 'continue' : options.atBoundary(carry);
    },
    pin,
  )).then((finished) => {
    progress.finished(finished);
    return finished;
  });
  return {
    result,
    progress: () => progress.snapshot({ paused: false, cancelRequested: false }),
    running: () => [...calls.values()],
  };
}

/** startPruneInProcess's result: the run's. */
export function runPruneInProcess(input: PruneWorkflowInput, options: InProcessRunOptions): Promise<PruneWorkflowResult> {
  return startPruneInProcess(input, options).result;
}
