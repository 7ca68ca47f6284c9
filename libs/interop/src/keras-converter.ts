import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CONVERTER_DIR, lastLines, requireKerasEnvironment } from './keras-environment';
import { KerasBadInput, KerasConverterFailure } from './errors';

/** What the converter reports of a Keras file it turned into a LayersModel directory. */
export interface ConvertedSource {
  format: 'keras' | 'h5';
  kerasVersion: string;
  modelClass: 'Model' | 'Sequential';
}

/** What the converter reports of a Keras file it wrote. */
export interface WrittenKerasFile {
  kerasVersion: string;
  params: number;
  layers: number;
}

export type KerasFileFormat = 'keras' | 'h5';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; kind: 'bad_input' | 'failure'; message: string };
type Ready = { ready: true; versions: Record<string, string> } | { ready: false; kind: string; message: string };

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

const STDERR_LINES_KEPT = 40;

export interface KerasConverterOptions {
  /** The environment's directory (IPPRO_KERAS_ENV); default the pinned one in the user's cache. */
  environmentDir?: string;
  /** Receives what Keras and TensorFlow print (stderr); by default only kept for failure messages. */
  log?: (line: string) => void;
}

/**
 * One converter process (`python -m ippro_keras serve`) in the pinned environment, answering
 * requests one at a time: start it once and convert several models, since loading Keras and
 * TensorFlow takes seconds. Bad input is a KerasBadInput, anything else a KerasConverterFailure.
 */
export class KerasConverter {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** Python and package versions the converter runs with. */
    readonly versions: Readonly<Record<string, string>>,
    /** The last lines the process printed on stderr, for failure messages. */
    private readonly stderrTail: readonly string[],
  ) {}

  static async start(options: KerasConverterOptions = {}): Promise<KerasConverter> {
    const environment = requireKerasEnvironment(options.environmentDir);
    const child = spawn(environment.python, ['-m', 'ippro_keras', 'serve'], {
      cwd: CONVERTER_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PYTHONPATH: CONVERTER_DIR,
        PYTHONNOUSERSITE: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        KERAS_BACKEND: 'tensorflow',
        TF_CPP_MIN_LOG_LEVEL: process.env['TF_CPP_MIN_LOG_LEVEL'] ?? '2',
        // The converter computes nothing worth a GPU; without this TensorFlow probes CUDA and logs about it.
        CUDA_VISIBLE_DEVICES: '',
      },
    });
    const lines = createInterface({ input: child.stdout });
    const stderrTail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      options.log?.(line);
      stderrTail.push(line);
      if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new KerasConverterFailure(`the Keras converter exited (code ${code}) before it was ready: ${lastLines(stderrTail.join('\n'), 3)}`));
      child.once('error', (error) => reject(new KerasConverterFailure(`the Keras converter did not start: ${error.message}`)));
      child.once('exit', onExit);
      lines.once('line', (line) => {
        child.off('exit', onExit);
        try {
          resolve(JSON.parse(line) as Ready);
        } catch {
          child.kill();
          reject(new KerasConverterFailure(`the Keras converter printed '${line.slice(0, 200)}' instead of its ready line`));
        }
      });
    });
    if (!ready.ready) {
      child.stdin.end();
      throw new KerasBadInput(ready.message);
    }
    const converter = new KerasConverter(child, ready.versions, stderrTail);
    lines.on('line', (line) => converter.onLine(line));
    child.once('exit', (code, signal) => converter.onExit(code, signal));
    return converter;
  }

  /** Converts a `.keras` or `.h5` file into a new LayersModel directory `outDir`. */
  importModel(source: string, outDir: string): Promise<ConvertedSource> {
    return this.request({ op: 'import', source, out: outDir }) as Promise<ConvertedSource>;
  }

  /** Writes the LayersModel in `modelDir` as a Keras file (`.keras` by Keras 3, `.h5` by tf.keras 2). */
  exportModel(modelDir: string, outFile: string, format: KerasFileFormat): Promise<WrittenKerasFile> {
    return this.request({ op: 'export', model: modelDir, out: outFile, format }) as Promise<WrittenKerasFile>;
  }

  /** Ends the process (it exits when its input closes). */
  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await exited;
  }

  private request(message: Record<string, string>): Promise<unknown> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, ...message })}\n`);
    });
  }

  private onLine(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      this.child.kill();
      this.onExit(null, null, `it printed '${line.slice(0, 200)}' where a reply belongs`);
      return;
    }
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else if (reply.kind === 'bad_input') waiting.reject(new KerasBadInput(reply.message));
    else waiting.reject(new KerasConverterFailure(`the Keras converter failed: ${reply.message}`));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, why = lastLines(this.stderrTail.join('\n'), 3)): void {
    if (this.exited !== undefined) return;
    this.exited = new KerasConverterFailure(`the Keras converter exited (${signal ?? `code ${code}`}): ${why}`);
    for (const waiting of this.pending.values()) waiting.reject(this.exited);
    this.pending.clear();
  }
}

/** Runs `work` with a converter started for it, and ends the converter afterwards. */
export async function withKerasConverter<T>(options: KerasConverterOptions, work: (converter: KerasConverter) => Promise<T>): Promise<T> {
  const converter = await KerasConverter.start(options);
  try {
    return await work(converter);
  } finally {
    await converter.close();
  }
}
