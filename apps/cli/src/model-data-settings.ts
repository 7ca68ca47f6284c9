import { parseNormalization } from '@ippro/data';
import { OUTPUT_SETTINGS } from '@ippro/models';
import { oneOf, parser, setting } from '@ippro/settings';

/**
 * What the model outputs and how the data is normalised: every command that computes a loss or an
 * accuracy takes these two (prune, compare, schedule create, score, eval, train).
 */
export const MODEL_DATA_SETTINGS = {
  output: setting({
    parse: oneOf(OUTPUT_SETTINGS, 'KIND'),
    help: "the model's output: auto (read from its last layer: softmax = probabilities, linear = logits, sigmoid) | probabilities | logits | sigmoid",
    default: 'auto',
  }),
  normalize: setting({
    // Kept as text: it is written into every dataset spec (normalize=...), and recorded as given.
    parse: parser('text', 'STATS', (text) => {
      parseNormalization(text);
      return text;
    }),
    help: 'normalization of every dataset: mean=R,G,B,std=R,G,B (one value each: every channel alike) or none; a spec\'s own normalize= wins',
    defaultHelp: "the data's own: CIFAR-10's statistics, a sidecar ippro-data.json's, else none",
  }),
};
