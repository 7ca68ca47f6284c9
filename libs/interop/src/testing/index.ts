export {
  kerasEnvironmentForTests,
  maxAbsDifference,
  readFloat32,
  runKerasFixtures,
  type KerasFixtureModel,
  type KerasPredictionJob,
  type RefusedKerasFile,
} from './keras-fixtures';
