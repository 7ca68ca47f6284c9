export { pruneModel, progressQuery, pauseSignal, resumeSignal, cancelSignal, NON_RETRYABLE_ERROR_TYPES } from './prune-model';
