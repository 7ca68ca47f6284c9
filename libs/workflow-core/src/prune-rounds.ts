import type { EvaluationSumsRef, FineTuneReplicaInput, MergeAndScoreOutput, PruneActivities } from './activity-types';
import { contiguousSplit } from './contiguous-split';
import { checkPruneInput } from './input-checks';
import { recomputingLostArtifacts, stepInputs } from './lost-artifacts';
import { mapBounded } from './map-bounded';
import type {
  FineTuneConfig,
  ModelOutputKind,
  PruneCarry,
  PrunePhase,
  PruneWorkflowInput,
  PruneWorkflowResult,
  RecalibrationConfig,
  RoundMetrics,
  StopReason,
} from './prune-types';
import type { RunPin } from './run-fingerprint';
import { RoundClock, samplesIn } from './run-timing';

/**
 * Where the round logic runs: the Temporal workflow (activities are proxies) or this process
 * (activities are the functions themselves). The logic, the activity calls, their inputs and
 * their merge order are the same in both, so both produce the same artifacts, byte for byte.
 */
export interface RoundHost {
  activities: PruneActivities;
  /** Phase and fan-out counters, for the progress query. */
  report(phase: PrunePhase, shardsDone: number, shardsTotal: number): void;
  /** Prefix of the job ids given to compute calls (the workflow id); logs only. */
  jobPrefix: string;
  /** Notable events (a lost artifact computed again): the workflow's log. */
  note?(line: string): void;
  /** A round (round 0: the baseline measurement) begins, timed by `clock`: the progress query reads it. */
  roundStarted?(clock: RoundClock): void;
}

/** The host's phase reports, also entered on the round's clock. */
interface TimedRound {
  clock: RoundClock;
  report(phase: PrunePhase, shardsDone: number, shardsTotal: number): void;
}

function timedRound(host: RoundHost): TimedRound {
  const clock = new RoundClock();
  host.roundStarted?.(clock);
  return {
    clock,
    report(phase, shardsDone, shardsTotal) {
      clock.enter(phase);
      host.report(phase, shardsDone, shardsTotal);
    },
  };
}

export const DEFAULT_MAX_PARALLEL = 4;

/** The settings with their defaults, checked with the whole input (checkPruneInput). Throws an Error naming the bad field. */
export function resolveSettings(input: PruneWorkflowInput): {
  batchShards: number;
  layerShards: number;
  evaluationShards: number;
  maxParallel: number;
  replicas: number;
  repetitions: number;
  steps: number;
} {
  checkPruneInput(input);
  const batchShards = input.shards?.batchShards ?? 1;
  const layerShards = input.shards?.layerShards ?? 1;
  const evaluationShards = input.shards?.evaluationShards ?? batchShards;
  const maxParallel = input.shards?.maxParallel ?? DEFAULT_MAX_PARALLEL;
  const replicas = input.fineTune?.replicas ?? 1;
  const repetitions = input.fineTune?.repetitions ?? 1;
  const steps = input.fineTune?.steps ?? 0;
  return { batchShards, layerShards, evaluationShards, maxParallel, replicas, repetitions, steps };
}

/** The output kind a run's compute calls carry: the input's, left out when absent (old inputs mean 'auto'). */
export function outputOf(input: { output?: ModelOutputKind }): { output?: ModelOutputKind } {
  return input.output === undefined ? {} : { output: input.output };
}

/** Evaluates a model shard by shard and merges the exact sums in shard order. */
async function evaluateModel(
  input: PruneWorkflowInput,
  host: RoundHost,
  timed: TimedRound,
  modelArtifactId: string,
  round: number,
): Promise<Omit<RoundMetrics, 'round' | 'modelArtifactId' | 'removedGroups' | 'removedTotal'>> {
  const { evaluationShards, maxParallel } = resolveSettings(input);
  const { activities } = host;
  const { evaluation } = input;
  timed.report('evaluating', 0, 0);
  const { shards, datasetSize } = await activities.planEvaluationShards({ evaluation, shards: evaluationShards });
  timed.clock.expect('evaluating', shards.reduce((sum, batches) => sum + samplesIn(batches, evaluation.batchSize, datasetSize), 0));
  timed.report('evaluating', 0, shards.length);
  const parts: EvaluationSumsRef[] = await mapBounded(
    shards,
    maxParallel,
    async (batches, index) => {
      const part = await activities.evaluateShard({ jobId: `${host.jobPrefix}/r${round}/eval${index}`, modelArtifactId, evaluation, batches, ...outputOf(input) });
      timed.clock.finished('evaluating', part.count, part.count);
      return part;
    },
    (done, total) => timed.report('evaluating', done, total),
  );
  return activities.mergeEvaluations({ modelArtifactId, parts });
}

/** Round 0: the input model's metrics. A lost input fails naming it (see recomputingLostArtifacts). */
export async function measureBaseline(input: PruneWorkflowInput, host: RoundHost): Promise<RoundMetrics> {
  return recomputingLostArtifacts('the baseline', stepInputs(input), host.activities, (line) => host.note?.(line), async () => {
    const timed = timedRound(host);
    timed.report('baseline', 0, 0);
    const measured = await evaluateModel(input, host, timed, input.modelArtifactId, 0);
    return { round: 0, modelArtifactId: input.modelArtifactId, ...measured, removedGroups: 0, removedTotal: 0, timing: timed.clock.timing() };
  });
}

/** The carry before round 1; `pin` is what the baseline and every round compute on (absent: unpinned). */
export function initialCarry(input: PruneWorkflowInput, baseline: RoundMetrics, pin: RunPin = {}): PruneCarry {
  return {
    round: 1,
    modelArtifactId: input.modelArtifactId,
    removedTotal: 0,
    baseline,
    history: [],
    paused: false,
    cancelRequested: false,
    ...(pin.fingerprint === undefined ? {} : { fingerprint: pin.fingerprint }),
    ...(pin.numericPath === undefined ? {} : { numericPath: pin.numericPath }),
  };
}

export type RoundOutcome =
  | { kind: 'nothing-removed'; reachedGoal: boolean; reason?: string }
  | { kind: 'done'; metrics: RoundMetrics; removedArtifactId: string };

/** Step number of the first local-SGD step of repetition `repetition` (0-based) of `round` (1-based). */
export function firstStepOf(round: number, repetition: number, repetitions: number, steps: number): number {
  return ((round - 1) * repetitions + repetition) * steps;
}

/**
 * K, the steps of each replica in each repetition, for a budget of `epochs` epochs of the
 * fine-tuning data over the whole run: E x B batches in all (B = ceil(samples / batchSize) batches
 * per epoch), shared equally by every round, repetition and replica (each of the R x M x P
 * replica calls trains K steps), rounded up, and at least 1.
 */
export function stepsForEpochs(epochs: number, samples: number, batchSize: number, shares: { rounds: number; repetitions: number; replicas: number }): number {
  const batches = epochs * Math.ceil(samples / batchSize);
  // Rounding noise of the division must not add a step (3 x 40 / 3 is 40).
  return Math.max(1, Math.ceil(batches / (shares.rounds * shares.repetitions * shares.replicas) - 1e-9));
}

/** The cosine decay over all of `round`'s fine-tuning steps, when the run asks for one. */
export function roundDecay(tune: FineTuneConfig, round: number, settings: { repetitions: number; steps: number }): Pick<FineTuneReplicaInput, 'cosineDecay'> {
  if (tune.learningRateSchedule !== 'cosine') return {};
  return { cosineDecay: { startStep: firstStepOf(round, 0, settings.repetitions, settings.steps), steps: settings.repetitions * settings.steps } };
}

/** The teacher of a distilling fine-tune: the run's input model. */
export function teacherOf(tune: FineTuneConfig, inputModelArtifactId: string): Pick<FineTuneReplicaInput, 'teacherModelArtifactId'> {
  return tune.distillation === undefined ? {} : { teacherModelArtifactId: inputModelArtifactId };
}

export interface RecalibrationPass {
  /** Batch shards of the pass (at most one per batch). */
  shards: number;
  maxParallel: number;
  seed: number;
  /** Job id prefix of the pass's compute calls. */
  jobId: string;
  report?: (done: number, total: number) => void;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
}

/**
 * Batch-norm recalibration of a model: the N batches split into contiguous shards like a scoring
 * pass, each shard's per-batch statistics computed where the data is (batchNormStatistics), then
 * merged in shard order into the recalibrated model (recalibrateModel). Returns its artifact id.
 */
export async function recalibrateBatchNorm(activities: PruneActivities, modelArtifactId: string, recalibration: RecalibrationConfig, pass: RecalibrationPass): Promise<string> {
  const ranges = contiguousSplit(recalibration.batches, pass.shards, 'recalibration shard');
  pass.report?.(0, ranges.length);
  const parts = await mapBounded(
    ranges,
    pass.maxParallel,
    (batches, index) => activities.batchNormStatistics({ jobId: `${pass.jobId}/bn${index}`, modelArtifactId, recalibration, batches, seed: pass.seed, ...outputOf(pass) }),
    pass.report,
  );
  const recalibrated = await activities.recalibrateModel({ modelArtifactId, statsArtifactIds: parts.map((part) => part.statsArtifactId) });
  return recalibrated.modelArtifactId;
}

/** Scores the round's model: the trajectory reading in one call, else the sharded statistics pass merged in order. */
async function scoreRound(
  input: PruneWorkflowInput,
  carry: PruneCarry,
  host: RoundHost,
  timed: TimedRound,
  settings: ReturnType<typeof resolveSettings>,
  prefix: string,
): Promise<{ scores: MergeAndScoreOutput; statsArtifactIds: string[][] }> {
  const { activities } = host;
  const round = carry.round;
  if (input.proscore?.reading === 'trajectory') {
    if (input.scoring === undefined) throw new Error('the trajectory reading without scoring settings');
    timed.report('scoring', 0, 1);
    const scores = await activities.scoreTrajectory({
      jobId: `${prefix}/trajectory`,
      modelArtifactId: carry.modelArtifactId,
      scoring: input.scoring,
      ...(input.lambda === undefined ? {} : { lambda: input.lambda }),
      proscore: input.proscore,
      ...outputOf(input),
    });
    timed.report('scoring', 1, 1);
    return { scores, statsArtifactIds: [] };
  }
  const { clock } = timed;
  timed.report('scoring', 0, 0);
  const shardPlan = await activities.planScoringShards({
    modelArtifactId: carry.modelArtifactId,
    criterion: input.criterion,
    ...(input.scoring === undefined ? {} : { scoring: input.scoring }),
    batchShards: settings.batchShards,
    layerShards: settings.layerShards,
  });
  const { scoring } = input;
  if (scoring !== undefined && shardPlan.datasetSize !== undefined) {
    const datasetSize = shardPlan.datasetSize;
    clock.expect('scoring', shardPlan.shards.reduce((sum, shard) => sum + samplesIn(shard.batches, scoring.batchSize, datasetSize), 0));
  }
  timed.report('scoring', 0, shardPlan.shards.length);
  const stats = await mapBounded(
    shardPlan.shards,
    settings.maxParallel,
    async (shard) => {
      if (scoring === undefined || shardPlan.shardPlanArtifactId === undefined) throw new Error('scoring shards without scoring settings');
      const computed = await activities.computeGradStats({
        jobId: `${prefix}/s${shard.index}`,
        modelArtifactId: carry.modelArtifactId,
        scoring,
        shardPlanArtifactId: shardPlan.shardPlanArtifactId,
        shard,
        ...outputOf(input),
      });
      clock.finished('scoring', computed.count, computed.count);
      return computed;
    },
    (done, total) => timed.report('scoring', done, total),
  );

  timed.report('merging', 0, 1);
  const statsArtifactIds = byLayerShard(shardPlan.shards, stats.map((shard) => shard.statsArtifactId));
  const scores = await activities.mergeAndScore({
    modelArtifactId: carry.modelArtifactId,
    criterion: input.criterion,
    ...(input.lambda === undefined ? {} : { lambda: input.lambda }),
    ...(input.proscore === undefined ? {} : { proscore: input.proscore }),
    seed: input.seed + round,
    ...(input.scoring === undefined ? {} : { scoring: input.scoring }),
    statsArtifactIds,
  });
  return { scores, statsArtifactIds };
}

/**
 * Score, plan, remove, fine-tune (local SGD), evaluate: one round from `carry`. An artifact the
 * round made and then lost (deleted, or found corrupted) is made again by running the round
 * again; a lost input of the round fails the run naming it (see recomputingLostArtifacts).
 */
export function runRound(input: PruneWorkflowInput, carry: PruneCarry, host: RoundHost): Promise<RoundOutcome> {
  return recomputingLostArtifacts(`round ${carry.round}`, stepInputs(input, carry), host.activities, (line) => host.note?.(line), () => runRoundOnce(input, carry, host));
}

async function runRoundOnce(input: PruneWorkflowInput, carry: PruneCarry, host: RoundHost): Promise<RoundOutcome> {
  const settings = resolveSettings(input);
  const { activities } = host;
  const round = carry.round;
  const prefix = `${host.jobPrefix}/r${round}`;
  const timed = timedRound(host);
  const { clock } = timed;

  const { scores, statsArtifactIds } = await scoreRound(input, carry, host, timed, settings, prefix);

  timed.report('planning', 0, 1);
  const plan = await activities.planRound({
    originalModelArtifactId: input.modelArtifactId,
    modelArtifactId: carry.modelArtifactId,
    ...(carry.removedArtifactId === undefined ? {} : { removedArtifactId: carry.removedArtifactId }),
    scoresArtifactId: scores.scoresArtifactId,
    plan: input.plan,
    round,
  });
  if (plan.groupsThisRound === 0) {
    return { kind: 'nothing-removed', reachedGoal: plan.reachedGoal, ...(plan.reason === undefined ? {} : { reason: plan.reason }) };
  }

  timed.report('surgery', 0, 1);
  const pruned = await activities.applySurgery({
    originalModelArtifactId: input.modelArtifactId,
    modelArtifactId: carry.modelArtifactId,
    ...(carry.removedArtifactId === undefined ? {} : { removedArtifactId: carry.removedArtifactId }),
    planArtifactId: plan.planArtifactId,
  });

  let model = pruned.modelArtifactId;
  if (input.recalibration !== undefined) {
    model = await recalibrateBatchNorm(activities, model, input.recalibration, {
      shards: settings.batchShards,
      maxParallel: settings.maxParallel,
      seed: input.seed,
      jobId: prefix,
      report: (done, total) => timed.report('recalibrating', done, total),
      ...outputOf(input),
    });
  }
  let fineTuneLoss: number | undefined;
  const tune = input.fineTune;
  if (tune !== undefined && settings.steps > 0) {
    let lossSum = 0;
    let samples = 0;
    clock.expect('fine-tuning', settings.repetitions * settings.replicas * settings.steps);
    for (let repetition = 0; repetition < settings.repetitions; repetition += 1) {
      const start = model;
      const replicaIndices = Array.from({ length: settings.replicas }, (_, index) => index);
      timed.report('fine-tuning', 0, replicaIndices.length);
      const replicas = await mapBounded(
        replicaIndices,
        settings.maxParallel,
        async (index) => {
          const tuned = await activities.fineTuneReplica({
            jobId: `${prefix}/m${repetition}/replica${index}`,
            startModelArtifactId: start,
            fineTune: tune,
            replica: { index, count: settings.replicas },
            firstStep: firstStepOf(round, repetition, settings.repetitions, settings.steps),
            ...roundDecay(tune, round, settings),
            seed: input.seed,
            ...teacherOf(tune, input.modelArtifactId),
            ...outputOf(input),
          });
          clock.finished('fine-tuning', tuned.steps, tuned.sampleCount);
          return tuned;
        },
        (done, total) => timed.report('fine-tuning', done, total),
      );
      for (const replica of replicas) {
        lossSum += replica.lossSum;
        samples += replica.sampleCount;
      }
      if (replicas.length === 1) {
        model = (replicas[0] as { modelArtifactId: string }).modelArtifactId;
      } else {
        timed.report('averaging', 0, 1);
        const averaged = await activities.averageModels({
          models: replicas.map(({ modelArtifactId, sampleCount }) => ({ modelArtifactId, sampleCount })),
        });
        model = averaged.modelArtifactId;
      }
    }
    fineTuneLoss = samples === 0 ? 0 : lossSum / samples;
  }

  const measured = await evaluateModel(input, host, timed, model, round);
  const metrics: RoundMetrics = {
    round,
    modelArtifactId: model,
    ...measured,
    removedGroups: plan.groupsThisRound,
    removedTotal: pruned.removedTotal,
    ...(fineTuneLoss === undefined ? {} : { fineTuneLoss }),
    reachedGoal: plan.reachedGoal,
    scoresArtifactId: scores.scoresArtifactId,
    ...(statsArtifactIds.length === 0 ? {} : { statsArtifactIds }),
    timing: clock.timing(),
  };
  return { kind: 'done', metrics, removedArtifactId: pruned.removedArtifactId };
}

/** Statistics ids grouped by layer shard, each group in batch order (the shards come layer shard major). */
function byLayerShard(shards: readonly { layerShard: number }[], ids: readonly string[]): string[][] {
  const groups: string[][] = [];
  shards.forEach((shard, index) => {
    (groups[shard.layerShard] ??= []).push(ids[index] as string);
  });
  return groups.filter((group) => group !== undefined);
}

/** The result when the run stops with `carry` as its last finished state. */
export function resultOf(input: PruneWorkflowInput, carry: PruneCarry, stoppedBecause: StopReason, reason?: string): PruneWorkflowResult {
  return {
    ...outputOf(input),
    modelArtifactId: carry.modelArtifactId,
    resultRound: carry.round - 1,
    stoppedBecause,
    ...(reason === undefined ? {} : { reason }),
    baseline: carry.baseline,
    history: carry.history,
    ...(carry.removedArtifactId === undefined ? {} : { removedArtifactId: carry.removedArtifactId }),
    removedTotal: carry.removedTotal,
    ...(carry.numericPath === undefined ? {} : { numericPath: carry.numericPath }),
  };
}

/**
 * The stop checks after a round: the next state to continue from, or the run's result.
 * - nothing to remove: the target was reached (or nothing can be removed); result = the last finished round;
 * - top-1 more than maxAccuracyDrop below the baseline: the round is recorded, the result is the round before it;
 * - the last round: target reached or rounds done.
 */
export function afterRound(
  input: PruneWorkflowInput,
  carry: PruneCarry,
  outcome: RoundOutcome,
): { next: PruneCarry; result?: undefined } | { result: PruneWorkflowResult; next?: undefined } {
  if (outcome.kind === 'nothing-removed') {
    return { result: resultOf(input, carry, outcome.reachedGoal ? 'target-reached' : 'nothing-to-remove', outcome.reason) };
  }
  const { metrics } = outcome;
  const history = [...carry.history, metrics];
  if (input.maxAccuracyDrop !== undefined && metrics.top1 < carry.baseline.top1 - input.maxAccuracyDrop) {
    const reason = `round ${metrics.round}: top-1 ${metrics.top1} fell more than the allowed ${input.maxAccuracyDrop} below the baseline ${carry.baseline.top1}`;
    return { result: resultOf(input, { ...carry, history }, 'accuracy-budget', reason) };
  }
  const next: PruneCarry = {
    ...carry,
    round: carry.round + 1,
    modelArtifactId: metrics.modelArtifactId,
    removedArtifactId: outcome.removedArtifactId,
    removedTotal: metrics.removedTotal,
    history,
  };
  if (metrics.round >= input.plan.rounds) {
    return { result: resultOf(input, next, metrics.reachedGoal === true ? 'target-reached' : 'rounds-done') };
  }
  return { next };
}

/**
 * The whole run in one loop, with a hook at every round boundary (pause, cancel): what
 * `ippro prune --local` runs. The workflow runs the same steps, one round per run (continue-as-new).
 * `pin` is what the host's activities are pinned to; the result records its numeric path.
 */
export async function runPruneRounds(
  input: PruneWorkflowInput,
  host: RoundHost,
  atBoundary?: (carry: PruneCarry) => Promise<'continue' | 'cancel'>,
  pin: RunPin = {},
): Promise<PruneWorkflowResult> {
  resolveSettings(input);
  let carry = input.carry ?? initialCarry(input, await measureBaseline(input, host), pin);
  for (;;) {
    if (atBoundary !== undefined && (await atBoundary(carry)) === 'cancel') {
      return resultOf(input, carry, 'cancelled', 'cancelled at a round boundary');
    }
    const step = afterRound(input, carry, await runRound(input, carry, host));
    if (step.result !== undefined) {
      host.report('done', 0, 0);
      return step.result;
    }
    carry = step.next;
  }
}
