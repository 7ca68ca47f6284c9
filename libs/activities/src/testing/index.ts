export { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel, tinyInput } from './tiny-config';
