export { trainEpochs } from './epoch-trainer';
export type { DataParallelOptions, StepProgress, TrainEpochsOptions, TrainEpochsResult, TrainEvent } from './epoch-trainer';
export type { TrainDataSource } from './data-parallel/messages';
export { batchPartOf } from './data-parallel/batch-split';
export { defaultMilestones, learningRateOf, optimizerKindOf, optimizerOf, stepSchedule, trainerSettings, validateTrainConfig } from './train-config';
export type { OptimizerRecord, ScheduleConfig, TrainConfig } from './train-config';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointDirOf,
  findCheckpoint,
  readCheckpoint,
  readCheckpointState,
  writeCheckpoint,
} from './checkpoint';
export type { Checkpoint, CheckpointState, DataIdentity, EpochRecord, TensorFile } from './checkpoint';
export { defaultProcessCount } from './data-parallel/process-count';
