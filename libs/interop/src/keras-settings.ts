import { TEXT, setting } from '@ippro/settings';

/** Where the converter's Python environment is: `ippro import`, `ippro export` and `npm run setup:keras` read it. */
export const KERAS_ENVIRONMENT_SETTINGS = {
  kerasEnv: setting({
    parse: TEXT,
    placeholder: 'DIR',
    env: 'IPPRO_KERAS_ENV',
    help: "the Keras converter's Python environment (npm run setup:keras creates it)",
    defaultHelp: '~/.cache/ippro/keras-<keras version>-tf-<tensorflow version>',
  }),
};
