import { Context } from '@temporalio/activity';
import type {
  ApplySurgeryInput,
  ApplySurgeryOutput,
  ComputeGradStatsInput,
  EvaluateShardInput,
  EvaluationSumsRef,
  FineTuneReplicaInput,
  MergeAndScoreInput,
  MergeEvaluationsInput,
  PlanRoundInput,
  PlanScoringShardsInput,
  PoolFingerprintOutput,
  PruneActivities,
  RunNumericPath,
} from '@ippro/workflow-core';

export type ActivityName = keyof PruneActivities;

export interface ActivityCall {
  name: ActivityName;
  input: unknown;
}

/** Samples in each evaluation shard the stub plans. */
export const SAMPLES_PER_SHARD = 100;

export interface StubRunOptions {
  /** Top-1 of the input model (index 0) and of each round's model after it. */
  top1ByRound: readonly number[];
  /** The round whose plan reaches the target; before it the planner reports the goal not met. */
  goalRound?: number;
  /** planRound of these rounds waits for release(round) once it is called. */
  holdPlanRounds?: readonly number[];
  /** The pool answers with the fingerprint alone, as versions before numeric paths did. */
  fingerprintOnly?: boolean;
}

/** A point an activity waits at until the test opens it; the test can wait for the activity to get there. */
class Gate {
  readonly reached: Promise<void>;
  private arrive!: () => void;
  private readonly opened: Promise<void>;
  open!: () => void;

  constructor() {
    this.reached = new Promise((resolve) => (this.arrive = resolve));
    this.opened = new Promise((resolve) => (this.open = resolve));
  }

  pass(): Promise<void> {
    this.arrive();
    return this.opened;
  }
}

/**
 * What the stub activities answer for one workflow run, and every call they got, in order. The
 * models are ids only: a model's round is known from the plan that made it, and its top-1 and
 * size follow from that round, so each test states the run's story in a few numbers.
 */
export class StubRun {
  readonly calls: ActivityCall[] = [];
  private readonly roundOfModel = new Map<string, number>();
  private readonly roundOfPlan = new Map<string, number>();
  private readonly criterionOfScores = new Map<string, string>();
  private readonly gates = new Map<number, Gate>();

  constructor(
    readonly inputModelArtifactId: string,
    private readonly options: StubRunOptions,
  ) {
    this.roundOfModel.set(inputModelArtifactId, 0);
    for (const round of options.holdPlanRounds ?? []) this.gates.set(round, new Gate());
  }

  /** What the stub pool answers poolFingerprint with. */
  poolAnswer(): PoolFingerprintOutput {
    return this.options.fingerprintOnly === true ? { fingerprint: STUB_FINGERPRINT } : { ...STUB_NUMERIC_PATH };
  }

  /** The calls of one activity, in order. */
  callsOf<Input>(name: ActivityName): Input[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.input as Input);
  }

  /** Resolves when planRound of a held round has been called (and waits). */
  whenHeld(round: number): Promise<void> {
    return this.gate(round).reached;
  }

  release(round: number): void {
    this.gate(round).open();
  }

  record(name: ActivityName, input: unknown): void {
    this.calls.push({ name, input });
  }

  mergeAndScore(input: MergeAndScoreInput): { scoresArtifactId: string; groupCount: number } {
    const scoresArtifactId = `scores-${input.criterion}-${input.modelArtifactId}`;
    this.criterionOfScores.set(scoresArtifactId, input.criterion);
    return { scoresArtifactId, groupCount: 4 };
  }

  /** Plans are named by round, criterion and target; the model a plan's surgery makes is `pruned-<plan>`. */
  async planRound(input: PlanRoundInput): Promise<{ planArtifactId: string; groupsThisRound: number; reachedGoal: boolean; removedFraction: number }> {
    await this.gates.get(input.round)?.pass();
    const criterion = this.criterionOfScores.get(input.scoresArtifactId) ?? 'unknown-scores';
    const planArtifactId = `r${input.round}-${criterion}-${input.plan.target.fraction}`;
    this.roundOfPlan.set(planArtifactId, input.round);
    const reachedGoal = this.options.goalRound !== undefined && input.round >= this.options.goalRound;
    return { planArtifactId, groupsThisRound: 2, reachedGoal, removedFraction: 0.1 * input.round };
  }

  applySurgery(input: ApplySurgeryInput): ApplySurgeryOutput {
    const round = this.roundOf(this.roundOfPlan, input.planArtifactId, 'plan');
    const modelArtifactId = `pruned-${input.planArtifactId}`;
    this.roundOfModel.set(modelArtifactId, round);
    return { modelArtifactId, removedArtifactId: `removed-r${round}`, removedTotal: 2 * round, params: this.paramsOf(modelArtifactId) };
  }

  /** A model derived from `from` in the same round (fine-tuned, averaged). */
  derive(from: string, suffix: string): string {
    const modelArtifactId = `${from}/${suffix}`;
    this.roundOfModel.set(modelArtifactId, this.roundOf(this.roundOfModel, from, 'model'));
    return modelArtifactId;
  }

  evaluateShard(input: EvaluateShardInput): EvaluationSumsRef {
    const count = input.batches.end - input.batches.start;
    return { correct: Math.round(this.top1Of(input.modelArtifactId) * count), lossSum: count, count };
  }

  mergeEvaluations(input: MergeEvaluationsInput): { params: number; flops: number; channels: number; top1: number; loss: number; evaluated: number } {
    const correct = input.parts.reduce((sum, part) => sum + part.correct, 0);
    const evaluated = input.parts.reduce((sum, part) => sum + part.count, 0);
    const params = this.paramsOf(input.modelArtifactId);
    return { params, flops: 2 * params, channels: params / 100, top1: correct / evaluated, loss: 1, evaluated };
  }

  private gate(round: number): Gate {
    const gate = this.gates.get(round);
    if (gate === undefined) throw new Error(`round ${round} is not held (holdPlanRounds)`);
    return gate;
  }

  private top1Of(modelArtifactId: string): number {
    const round = this.roundOf(this.roundOfModel, modelArtifactId, 'model');
    const top1 = this.options.top1ByRound[round];
    if (top1 === undefined) throw new Error(`the stub run states no top-1 for round ${round}`);
    return top1;
  }

  private paramsOf(modelArtifactId: string): number {
    return 1000 - 100 * this.roundOf(this.roundOfModel, modelArtifactId, 'model');
  }

  private roundOf(rounds: Map<string, number>, id: string, what: string): number {
    const round = rounds.get(id);
    if (round === undefined) throw new Error(`the stub activities never made the ${what} ${id}`);
    return round;
  }
}

/** The kernel fingerprint the stub pool reports: every compute call of a stub run carries it. */
export const STUB_FINGERPRINT = 'stub0fingerprint';

/** The numeric path the stub pool reports with its fingerprint. */
export const STUB_NUMERIC_PATH: RunNumericPath = { fingerprint: STUB_FINGERPRINT, backend: 'cpu', threads: 1, tfjs: '0.0.0-stub' };

/**
 * The pruneModel and compareCriteria activities, answered by the StubRun of the calling
 * workflow (by workflow id), so one Worker serves every test of a file.
 */
export function createStubActivities(runs: ReadonlyMap<string, StubRun>): PruneActivities {
  const current = (name: ActivityName, input: unknown): StubRun => {
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    const run = workflowId === undefined ? undefined : runs.get(workflowId);
    if (run === undefined) throw new Error(`no stub run for workflow ${workflowId}`);
    run.record(name, input);
    return run;
  };
  return {
    async planScoringShards(input: PlanScoringShardsInput) {
      current('planScoringShards', input);
      if (input.scoring === undefined) return { shards: [] };
      const shards = Array.from({ length: input.layerShards * input.batchShards }, (_, index) => ({
        index,
        layerShard: Math.floor(index / input.batchShards),
        batches: { start: index % input.batchShards, end: (index % input.batchShards) + 1 },
      }));
      return { shardPlanArtifactId: `shard-plan-${input.modelArtifactId}`, shards };
    },
    async computeGradStats(input: ComputeGradStatsInput) {
      current('computeGradStats', input);
      return { statsArtifactId: `stats-${input.modelArtifactId}-${input.shard.index}`, count: 1, lossSum: 1, groupCount: 4, statsBytes: 64 };
    },
    async mergeAndScore(input) {
      return current('mergeAndScore', input).mergeAndScore(input);
    },
    async scoreTrajectory(input) {
      return current('scoreTrajectory', input).mergeAndScore({ criterion: 'proscore', modelArtifactId: input.modelArtifactId, seed: 0, statsArtifactIds: [] });
    },
    async batchNormStatistics(input) {
      current('batchNormStatistics', input);
      const batches = input.batches.end - input.batches.start;
      return { statsArtifactId: `bn-stats-${input.modelArtifactId}-${input.batches.start}`, batches, samples: batches * input.recalibration.batchSize };
    },
    async recalibrateModel(input) {
      return { modelArtifactId: current('recalibrateModel', input).derive(input.modelArtifactId, 'recalibrated') };
    },
    async planRound(input) {
      return current('planRound', input).planRound(input);
    },
    async applySurgery(input) {
      return current('applySurgery', input).applySurgery(input);
    },
    async fineTuneReplica(input: FineTuneReplicaInput) {
      const run = current('fineTuneReplica', input);
      const modelArtifactId = run.derive(input.startModelArtifactId, `tuned-s${input.firstStep}-x${input.replica.index}`);
      return { modelArtifactId, sampleCount: 10, steps: input.fineTune.steps, lossSum: 5 };
    },
    async averageModels(input) {
      const run = current('averageModels', input);
      const first = input.models[0];
      if (first === undefined) throw new Error('averageModels got no models');
      return { modelArtifactId: run.derive(first.modelArtifactId, 'averaged') };
    },
    async planEvaluationShards(input) {
      current('planEvaluationShards', input);
      return {
        shards: Array.from({ length: input.shards }, (_, index) => ({ start: index * SAMPLES_PER_SHARD, end: (index + 1) * SAMPLES_PER_SHARD })),
        datasetSize: input.shards * SAMPLES_PER_SHARD * input.evaluation.batchSize,
      };
    },
    async evaluateShard(input) {
      return current('evaluateShard', input).evaluateShard(input);
    },
    async mergeEvaluations(input) {
      return current('mergeEvaluations', input).mergeEvaluations(input);
    },
    async checkArtifacts(input) {
      current('checkArtifacts', input);
      return { checked: input.artifacts.length };
    },
    async poolFingerprint(input) {
      return current('poolFingerprint', input).poolAnswer();
    },
  };
}
