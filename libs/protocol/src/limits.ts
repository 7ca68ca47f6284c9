/**
 * The maximum gRPC message size set explicitly on servers and clients, both directions: the
 * 4 MiB gRPC default plus slack for framing. Chunks are 1 MiB, so only a misbehaving peer gets
 * near it; a larger message is refused with RESOURCE_EXHAUSTED.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024;

/** The largest artifact one Put may declare and send unless the server is told otherwise: 4 GiB. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 4 * 1024 * 1024 * 1024;
