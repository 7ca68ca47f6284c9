import { lstat, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { artifactKeyOf } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { buildChannelGraph, loadLayersModelFromDir } from '@ippro/graph';
import { modelToArtifact, writeModelArtifactToDir } from '@ippro/model-artifact';
import { resolveOutputKind } from '@ippro/models';
import type { ClassifierOutput } from '@ippro/models';
import type {
  KeepScheduledResultInput,
  KeepScheduledResultOutput,
  LoadScheduledModelInput,
  LoadScheduledModelOutput,
  ScheduleActivities,
  ScheduledPruneResult,
} from '@ippro/workflows';
import { refusedSchedulePath } from './schedule-paths';

export interface ScheduleActivityDeps {
  store: ArtifactStorage;
  /**
   * Directories scheduled runs may read models from and write results to (links resolved).
   * Undefined: any absolute path (a stack on one machine, where the schedules' author owns it).
   */
  scheduleDirs?: readonly string[];
}

/** The name of the link to the newest kept result inside a schedule's output directory. */
export const LATEST_LINK = 'latest';

const KEPT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

const badInput = (message: string, type: 'InvalidArgument' | 'NotFound' = 'InvalidArgument'): ApplicationFailure =>
  ApplicationFailure.create({ message, type, nonRetryable: true });

/** Points `<root>/latest` at `name`, replacing an older link in one rename. */
async function linkLatest(root: string, name: string): Promise<void> {
  const temporary = join(root, `.${LATEST_LINK}-${process.pid}-${Date.now()}`);
  await symlink(name, temporary);
  await rename(temporary, join(root, LATEST_LINK));
}

async function summaryIn(dir: string): Promise<ScheduledPruneResult | undefined> {
  const text = await readFile(join(dir, 'summary.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as ScheduledPruneResult);
}

/** The activities of scheduled runs (@ippro/workflows' scheduledPrune); they run in the orchestrator's process. */
export function createScheduleActivities(deps: ScheduleActivityDeps): ScheduleActivities {
  const { store } = deps;
  const check = async (path: string, field: string): Promise<void> => {
    const refused = await refusedSchedulePath(path, field, deps.scheduleDirs);
    if (refused !== undefined) throw badInput(refused);
  };

  async function loadScheduledModel(input: LoadScheduledModelInput): Promise<LoadScheduledModelOutput> {
    await check(input.modelPath, 'modelPath');
    if (!(await stat(input.modelPath).catch(() => undefined))?.isDirectory()) throw badInput(`model directory ${input.modelPath} does not exist`, 'NotFound');
    let bytes: Uint8Array;
    let output: ClassifierOutput;
    try {
      const model = await loadLayersModelFromDir(input.modelPath);
      try {
        buildChannelGraph(model);
        output = resolveOutputKind(model, input.output ?? 'auto');
        bytes = modelToArtifact(model);
      } finally {
        model.dispose();
      }
    } catch (error) {
      throw badInput(`model ${input.modelPath}: ${(error as Error).message}`);
    }
    const modelArtifactId = artifactKeyOf(bytes);
    await store.put(bytes, { key: modelArtifactId });
    return { modelArtifactId, output };
  }

  async function keepScheduledResult(input: KeepScheduledResultInput): Promise<KeepScheduledResultOutput> {
    if (!KEPT_NAME.test(input.name)) throw badInput(`kept result name '${input.name}' is not a plain directory name`);
    await check(input.outDir, 'outDir');
    await mkdir(input.outDir, { recursive: true });
    const dir = join(input.outDir, input.name);
    if ((await lstat(dir).catch(() => undefined)) !== undefined) {
      // A retry after the first attempt wrote it: the same model is already there.
      if ((await summaryIn(dir))?.modelArtifactId !== input.modelArtifactId) throw badInput(`${dir} already exists and holds another result`);
    } else {
      const staging = join(input.outDir, `.${input.name}.partial-${process.pid}`);
      await rm(staging, { recursive: true, force: true });
      try {
        writeModelArtifactToDir(await store.get(input.modelArtifactId), staging);
        await writeFile(join(staging, 'summary.json'), `${JSON.stringify({ ...input.summary, keptDir: dir }, null, 2)}\n`);
        await rename(staging, dir);
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw error;
      }
    }
    await linkLatest(input.outDir, input.name);
    return { dir };
  }

  return { loadScheduledModel, keepScheduledResult };
}
