/** Artifacts travel in chunks of this size (the last one may be smaller). */
export const CHUNK_BYTES = 1024 * 1024;
