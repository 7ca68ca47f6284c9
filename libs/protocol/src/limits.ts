/**
 * The maximum gRPC message size set explicitly on servers and clients, both directions: the
 * 4 MiB gRPC default plus slack for framing. Chunks are 1 MiB, so only a misbehaving peer gets
 * near it; a larger message is refused with RESOURCE_EXHAUSTED.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024;
