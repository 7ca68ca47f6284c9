import type { BenchOptions } from './bench-options';
import { nativeChildArgs, nativeChildEnv } from './runtime-native';
import type { RuntimeModel } from './runtime-options';
import { median } from './timing';
import { StepServer, SERVE_PREFIX } from './runtime-step-server';
import { torchEnv, torchScript } from './runtime-torch';
import type { WaitPolicy } from './runtime-torch';

/** Training steps of tfjs native and PyTorch alternated one by one at one thread count. */
export interface PairedTrain {
  threads: number;
  pytorchWaitPolicies: PeerPolicies;
  tfjsStepMs: number[];
  pytorchNchwStepMs: number[];
  pytorchChannelsLastStepMs: number[];
  /** Per round: PyTorch's faster layout's step time over tfjs' step time. */
  roundRatios: number[];
  /** Median of the round ratios: tfjs' training speed as a fraction of PyTorch's. */
  ratio: number;
}

export type PairedOutcome = { ok: true; paired: PairedTrain } | { ok: false; why: string };

function nativeServer(options: BenchOptions, model: RuntimeModel, threads: number): Promise<StepServer> {
  const args = nativeChildArgs(options, model, ['--serve']);
  return StepServer.start(`tfjs native (${threads} threads)`, process.execPath, args, nativeChildEnv(threads), SERVE_PREFIX);
}

function torchServer(python: string, options: BenchOptions, model: RuntimeModel, threads: number, channelsLast: boolean, policy: WaitPolicy): Promise<StepServer> {
  const args = [...torchScript(model), '--serve', '--threads', `${threads}`, '--batch', `${options.wasmBatch}`, '--warmup', `${options.warmupRuns}`];
  const env = torchEnv(threads, policy);
  return StepServer.start(`pytorch (${threads} threads)`, python, channelsLast ? [...args, '--channels-last'] : args, env);
}

/** The OpenMP wait policy PyTorch runs each layout with (its faster one, from the separate runs). */
export interface PeerPolicies {
  nchw: WaitPolicy;
  channels_last: WaitPolicy;
}

/**
 * Alternates single training steps: tfjs native, PyTorch NCHW, PyTorch channels-last, for
 * `timedRuns` rounds after each server's warm-up. On a machine shared with other jobs the
 * load drifts; steps taken back to back see about the same load, so the per-round ratio
 * is far steadier than a ratio of medians taken minutes apart.
 */
export async function measurePairedTrain(python: string, options: BenchOptions, model: RuntimeModel, threads: number, policies: PeerPolicies): Promise<PairedOutcome> {
  const servers: StepServer[] = [];
  try {
    servers.push(await nativeServer(options, model, threads));
    servers.push(await torchServer(python, options, model, threads, false, policies.nchw));
    servers.push(await torchServer(python, options, model, threads, true, policies.channels_last));
    const [tfjs, nchw, channelsLast] = servers as [StepServer, StepServer, StepServer];
    const paired: PairedTrain = { threads, pytorchWaitPolicies: policies, tfjsStepMs: [], pytorchNchwStepMs: [], pytorchChannelsLastStepMs: [], roundRatios: [], ratio: NaN };
    for (let round = 0; round < options.timedRuns; round++) {
      const ours = (await tfjs.run('train')).ms;
      const theirs = [(await nchw.run('train')).ms, (await channelsLast.run('train')).ms];
      paired.tfjsStepMs.push(ours);
      paired.pytorchNchwStepMs.push(theirs[0] ?? NaN);
      paired.pytorchChannelsLastStepMs.push(theirs[1] ?? NaN);
      paired.roundRatios.push(Math.min(...theirs) / ours);
    }
    paired.ratio = median(paired.roundRatios);
    return { ok: true, paired };
  } catch (error) {
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  } finally {
    servers.forEach((server) => server.close());
  }
}
