/** Receives progress and diagnostic lines; the library itself never writes to the console. */
export type LogFn = (message: string) => void;

export const silentLog: LogFn = () => undefined;
