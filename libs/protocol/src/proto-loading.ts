import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as ArtifactsProto } from './generated/artifacts';
import type { ProtoGrpcType as HealthProto } from './generated/health';
import type { ProtoGrpcType as WorkerProto } from './generated/worker';

/**
 * How the .proto files are turned into JavaScript objects at run time. These must match the
 * flags of scripts/generate-proto.mjs (--longs=Number --enums=String --defaults --oneofs), or
 * the generated types would lie: 64-bit integers are numbers, enums their names, absent
 * scalars their defaults, and each oneof has a virtual field naming the member that is set.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The service definitions, relative to the proto root. */
export const PROTO_FILES: readonly string[] = [
  'ippro/v1/artifacts.proto',
  'ippro/v1/worker.proto',
  'grpc/health/v1/health.proto',
];

/** Environment variable naming the proto root when the default location does not hold it. */
export const PROTO_DIR_ENV = 'IPPRO_PROTO_DIR';

/** The repository's proto/ directory (or $IPPRO_PROTO_DIR). */
export function protoRoot(): string {
  const fromEnv = process.env[PROTO_DIR_ENV];
  const root = fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : resolve(__dirname, '..', '..', '..', 'proto');
  if (!existsSync(join(root, PROTO_FILES[0] ?? ''))) {
    throw new Error(`proto root ${root} does not hold ${PROTO_FILES[0]}; set ${PROTO_DIR_ENV} to the proto/ directory`);
  }
  return root;
}

/** Every ippro.v1 service and message, and grpc.health.v1, as loaded at run time. */
export type IpproProto = ArtifactsProto & WorkerProto & HealthProto;

let cachedDefinition: protoLoader.PackageDefinition | undefined;
let cachedProto: IpproProto | undefined;

/** The package definition of every proto file (also what server reflection describes). */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  if (cachedDefinition === undefined) {
    const root = protoRoot();
    cachedDefinition = protoLoader.loadSync(
      PROTO_FILES.map((file) => join(root, file)),
      { ...PROTO_LOADER_OPTIONS, includeDirs: [root] },
    );
  }
  return cachedDefinition;
}

/** Service constructors and definitions, typed by the generated code. */
export function loadProtocol(): IpproProto {
  cachedProto ??= grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as IpproProto;
  return cachedProto;
}
