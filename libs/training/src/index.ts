export { trainEpochs } from './epoch-trainer';
export type { StepProgress, TrainEpochsOptions, TrainEpochsResult, TrainEvent } from './epoch-trainer';
export { defaultMilestones, learningRateOf, stepSchedule, validateTrainConfig } from './train-config';
export type { ScheduleConfig, TrainConfig } from './train-config';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointDirOf,
  findCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint';
export type { Checkpoint, CheckpointState, DataIdentity, EpochRecord } from './checkpoint';
export { evaluateOn, modelDataMismatch } from './evaluate-on';
