import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES, channelCredentials, clientChannelOptions, loadProtocol, tlsChannelOptions } from '@ippro/protocol';
import type { ClientTlsOptions, protocol } from '@ippro/protocol';

export interface WorkerClientOptions {
  /** TLS (with certFile/keyFile: mutual TLS). Default insecure. */
  tls?: ClientTlsOptions;
  /** Maximum message size in both directions. Default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  channelOptions?: grpc.ChannelOptions;
}

export interface LongCallOptions {
  /** Deadline of the call, in milliseconds from now. */
  timeoutMs?: number;
  /** Cancels the call (the worker stops within one batch or step). */
  signal?: AbortSignal;
  onProgress?: (progress: protocol.Progress__Output) => void;
}

interface ResponseEvent<Result> {
  event?: 'progress' | 'result';
  progress?: protocol.Progress__Output | null;
  result?: Result | null;
}

/**
 * A client of one worker's WorkerService. Long calls resolve to their result and report
 * progress on the way; failures reject with the grpc ServiceError (code = the gRPC status,
 * details = the worker's message).
 */
export class WorkerClient {
  readonly raw: protocol.WorkerServiceClient;

  constructor(
    readonly address: string,
    options: WorkerClientOptions = {},
  ) {
    const Client = loadProtocol().ippro.v1.WorkerService;
    this.raw = new Client(address, channelCredentials(options.tls), {
      ...clientChannelOptions(options.maxMessageBytes ?? MAX_MESSAGE_BYTES),
      ...tlsChannelOptions(options.tls),
      ...options.channelOptions,
    });
  }

  getCapabilities(timeoutMs = 10_000): Promise<protocol.Capabilities__Output> {
    return new Promise((resolve, reject) => {
      this.raw.GetCapabilities({}, { deadline: Date.now() + timeoutMs }, (error, result) => {
        if (error) reject(error);
        else if (result == null) reject(new Error('GetCapabilities: empty response'));
        else resolve(result);
      });
    });
  }

  computeGradStats(request: protocol.ComputeGradStatsRequest, options: LongCallOptions = {}): Promise<protocol.ComputeGradStatsResult__Output> {
    return this.longCall((callOptions) => this.raw.ComputeGradStats(request, callOptions), 'ComputeGradStats', options);
  }

  fineTune(request: protocol.FineTuneRequest, options: LongCallOptions = {}): Promise<protocol.FineTuneResult__Output> {
    return this.longCall((callOptions) => this.raw.FineTune(request, callOptions), 'FineTune', options);
  }

  evaluate(request: protocol.EvaluateRequest, options: LongCallOptions = {}): Promise<protocol.EvaluateResult__Output> {
    return this.longCall((callOptions) => this.raw.Evaluate(request, callOptions), 'Evaluate', options);
  }

  computeBatchNormStatistics(
    request: protocol.ComputeBatchNormStatisticsRequest,
    options: LongCallOptions = {},
  ): Promise<protocol.ComputeBatchNormStatisticsResult__Output> {
    return this.longCall((callOptions) => this.raw.ComputeBatchNormStatistics(request, callOptions), 'ComputeBatchNormStatistics', options);
  }

  computeTrajectoryScores(request: protocol.ComputeTrajectoryScoresRequest, options: LongCallOptions = {}): Promise<protocol.ComputeTrajectoryScoresResult__Output> {
    return this.longCall((callOptions) => this.raw.ComputeTrajectoryScores(request, callOptions), 'ComputeTrajectoryScores', options);
  }

  /** Resolves once the channel is connected (TLS handshake included). */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): void {
    this.raw.close();
  }

  private longCall<Result>(
    start: (callOptions: grpc.CallOptions) => grpc.ClientReadableStream<ResponseEvent<Result>>,
    name: string,
    options: LongCallOptions,
  ): Promise<Result> {
    return new Promise((resolve, reject) => {
      const call = start(options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs });
      let result: Result | undefined;
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted === true) call.cancel();
      call.on('data', (message: ResponseEvent<Result>) => {
        if (message.event === 'progress' && message.progress != null) options.onProgress?.(message.progress);
        else if (message.event === 'result' && message.result != null) result = message.result;
      });
      call.on('error', (error) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      call.on('end', () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (result === undefined) reject(new Error(`${name}: the worker ended the call without a result`));
        else resolve(result);
      });
    });
  }
}
