import assert from 'node:assert/strict';
import { it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ARTIFACT_STATUS, ArtifactError } from '@ippro/artifact-store';
import type { ArtifactErrorKind } from '@ippro/artifact-store';
import { kindOfStatus } from './artifact-status';

it('the status numbers the store names without gRPC are gRPC’s own', () => {
  for (const [name, code] of Object.entries(ARTIFACT_STATUS)) {
    assert.equal(code, status[name as keyof typeof status], name);
  }
});

it('each error kind travels as a status that the client turns back into the same kind', () => {
  const kinds: ArtifactErrorKind[] = ['invalid-argument', 'not-found', 'data-loss', 'too-large', 'unavailable', 'misconfigured', 'internal'];
  for (const kind of kinds) assert.equal(kindOfStatus(new ArtifactError(kind, kind).code), kind);
  assert.equal(new ArtifactError('invalid-key', 'bad key').code, status.INVALID_ARGUMENT);
});
