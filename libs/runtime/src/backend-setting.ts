import { parser, setting } from '@ippro/settings';
import { BACKEND_REQUESTS, parseBackendRequest } from './backends/backend-names';

/** `--backend`: the same setting in every program that computes. */
export const BACKEND_SETTINGS = {
  backend: setting({ parse: parser('text', 'NAME', parseBackendRequest), help: `tfjs backend of this process: ${BACKEND_REQUESTS.join(' | ')}`, default: 'auto' }),
};
