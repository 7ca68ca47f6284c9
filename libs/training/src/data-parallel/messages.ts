import type { BackendName } from '@ippro/runtime';

/** How a replica process opens the training data (it cannot be handed a dataset object). */
export interface TrainDataSource {
  /** A dataset spec, as resolveDataset takes it. */
  spec: string;
  /** Where CIFAR-10 lives and what json: paths are relative to. */
  resolve?: { cifar10Dir?: string; cwd?: string };
}

/** Coordinator -> replica. */
export type ToReplica =
  | {
      kind: 'init';
      rank: number;
      processes: number;
      backend: BackendName;
      data: TrainDataSource;
      /** The coordinator's dataset identity, which the reopened data must match. */
      expected: { description: string; size: number };
      /** A checkpoint with the model and optimizer state to start from. */
      startDir: string;
    }
  | { kind: 'step'; epoch: number; index: number }
  | { kind: 'update'; learningRate: number; gradients: Float32Array; statistics: Float32Array }
  | { kind: 'digest' }
  | { kind: 'state' }
  | { kind: 'stop' };

/** What a replica computed for its part of one batch. */
export interface PartResult {
  loss: number;
  correct: number;
  count: number;
  /** Time spent producing the part's input (read, augment, normalise, tensors). */
  inputMilliseconds: number;
  /** Gradients in trainable-weight order, flattened; empty for an empty part. */
  gradients: Float32Array;
  /** Non-trainable weights after the part's forward pass (batch-norm moving statistics). */
  statistics: Float32Array;
}

/** Replica -> coordinator. */
export type FromReplica =
  | { kind: 'ready' }
  | ({ kind: 'gradients' } & PartResult)
  | { kind: 'digest'; digest: string }
  | ({ kind: 'state' } & ReplicaState)
  | { kind: 'error'; message: string };

/** A replica's whole training state, for the coordinator to take over. */
export interface ReplicaState {
  /** Every weight of the model (trainable and not), in the model's order, flattened. */
  weights: Float32Array;
  /** SGD's momentum buffers or AdamW's first moments, in trainable-weight order, flattened; empty before SGD's first step. */
  momentum: Float32Array;
  /** AdamW's second moments, likewise; absent for SGD. */
  velocity?: Float32Array;
  iterations: number;
}
