import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { jobFields } from './job-fields';
import type { JobFields } from './job-fields';
import type { Logger } from './logger';
import { orchestratorMetrics } from './metrics';

/** The phase of the pruneModel workflow an activity belongs to (the workflow's PrunePhase names). */
const PHASE_OF_ACTIVITY: Record<string, string> = {
  planScoringShards: 'scoring',
  computeGradStats: 'scoring',
  scoreTrajectory: 'scoring',
  mergeAndScore: 'merging',
  planRound: 'planning',
  applySurgery: 'surgery',
  batchNormStatistics: 'recalibrating',
  recalibrateModel: 'recalibrating',
  fineTuneReplica: 'fine-tuning',
  averageModels: 'fine-tuning',
  planEvaluationShards: 'evaluating',
  evaluateShard: 'evaluating',
  mergeEvaluations: 'evaluating',
};

/** Activities that are one shard of work on a worker (or in process). */
const COMPUTE_ACTIVITIES = new Set(['computeGradStats', 'scoreTrajectory', 'batchNormStatistics', 'fineTuneReplica', 'evaluateShard']);

const PHASES = ['baseline', ...new Set(Object.values(PHASE_OF_ACTIVITY))];

/** What an activity's input and result may say about the run (they are plain JSON objects). */
interface Described {
  jobId?: unknown;
  round?: unknown;
  count?: unknown;
  sampleCount?: unknown;
}

function described(value: unknown): Described {
  return typeof value === 'object' && value !== null ? (value as Described) : {};
}

/** Samples a compute activity processed: `count` (scoring, evaluation) or `sampleCount` (fine-tuning). */
function samplesOf(result: unknown): number {
  const { count, sampleCount } = described(result);
  const value = typeof sampleCount === 'number' ? sampleCount : count;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Tracks the round and phase of each run from the activities it runs. */
class RunProgress {
  private readonly rounds = new Map<string, number>();

  /** Fields for logs; updates the run's round and phase gauges. */
  observe(runId: string, activity: string, input: unknown): JobFields & { runId: string } {
    const { jobId, round } = described(input);
    const fromJob = typeof jobId === 'string' ? jobFields(jobId) : undefined;
    const knownRound = fromJob?.round ?? (typeof round === 'number' ? round : this.rounds.get(runId));
    if (knownRound !== undefined) {
      this.rounds.set(runId, knownRound);
      orchestratorMetrics.round.set({ run_id: runId }, knownRound);
    }
    const phase = knownRound === 0 && PHASE_OF_ACTIVITY[activity] === 'evaluating' ? 'baseline' : PHASE_OF_ACTIVITY[activity];
    if (phase !== undefined) for (const name of PHASES) orchestratorMetrics.phase.set({ run_id: runId, phase: name }, name === phase ? 1 : 0);
    return {
      ...(fromJob ?? {}),
      jobId: fromJob?.jobId ?? '',
      runId,
      ...(knownRound === undefined ? {} : { round: knownRound }),
    };
  }
}

/**
 * Temporal activity interceptors for the orchestrator: each activity attempt is logged (JSON,
 * with runId, round, shard, activity, attempt, durationMs) and measured (duration histogram;
 * shards done and failed, samples and samples per second for compute activities; the run's
 * current round and phase). Pass as `interceptors: { activity: activityTelemetry(logger) }`.
 */
export function activityTelemetry(logger: Logger): ActivityInterceptorsFactory[] {
  const progress = new RunProgress();
  const factory: ActivityInterceptorsFactory = (context: Context) => ({
    inbound: {
      execute: async (input, next) => {
        const { activityType: activity, attempt, workflowExecution } = context.info;
        const runId = workflowExecution?.workflowId;
        const fields = runId === undefined ? {} : progress.observe(runId, activity, input.args[0]);
        const log = logger.child({ ...fields, activity, attempt });
        const started = process.hrtime.bigint();
        const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
        orchestratorMetrics.activitiesInFlight.inc({ activity });
        log.debug(`${activity} started`);
        try {
          const result = await next(input);
          const elapsed = seconds();
          orchestratorMetrics.activityDuration.observe({ activity, outcome: 'done' }, elapsed);
          if (COMPUTE_ACTIVITIES.has(activity)) {
            const samples = samplesOf(result);
            orchestratorMetrics.shardsDone.inc({ activity });
            orchestratorMetrics.images.inc({ activity }, samples);
            if (elapsed > 0) orchestratorMetrics.imagesPerSecond.set({ activity }, samples / elapsed);
            log.info({ durationMs: Math.round(elapsed * 1000), samples }, `${activity} done`);
          } else {
            log.info({ durationMs: Math.round(elapsed * 1000) }, `${activity} done`);
          }
          return result;
        } catch (error) {
          const outcome = context.cancellationSignal.aborted ? 'cancelled' : 'failed';
          orchestratorMetrics.activityDuration.observe({ activity, outcome }, seconds());
          if (COMPUTE_ACTIVITIES.has(activity)) orchestratorMetrics.shardsFailed.inc({ activity });
          log.warn({ durationMs: Math.round(seconds() * 1000), error: (error as Error).message }, `${activity} ${outcome}`);
          throw error;
        } finally {
          orchestratorMetrics.activitiesInFlight.dec({ activity });
        }
      },
    },
  });
  return [factory];
}
