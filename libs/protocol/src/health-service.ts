import * as grpc from '@grpc/grpc-js';
import type { HealthHandlers } from './generated/grpc/health/v1/Health';
import type { HealthCheckRequest__Output } from './generated/grpc/health/v1/HealthCheckRequest';
import type {
  HealthCheckResponse,
  _grpc_health_v1_HealthCheckResponse_ServingStatus__Output as ServingStatusName,
} from './generated/grpc/health/v1/HealthCheckResponse';
import { loadProtocol } from './proto-loading';

export type ServingStatus = Exclude<ServingStatusName, 'SERVICE_UNKNOWN'>;

/**
 * The standard gRPC health service (grpc.health.v1.Health): `Check` answers the status of a
 * service name ('' is the whole server) or NOT_FOUND; `Watch` streams the status on every change
 * (SERVICE_UNKNOWN for a name not registered yet). Kubernetes probes and grpc_health_probe use it.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<grpc.ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>>>();

  constructor(initial: Record<string, ServingStatus> = { '': 'SERVING' }) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  status(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const call of this.watchers.get(service) ?? []) call.write({ status });
  }

  /** Marks every service NOT_SERVING (e.g. while draining before shutdown). */
  setAllNotServing(): void {
    for (const service of [...this.statuses.keys()]) this.setStatus(service, 'NOT_SERVING');
  }

  handlers(): HealthHandlers {
    return {
      Check: (call, callback) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
        } else {
          callback(null, { status });
        }
      },
      Watch: (call) => {
        const service = call.request.service;
        const set = this.watchers.get(service) ?? new Set();
        this.watchers.set(service, set);
        set.add(call);
        const forget = (): void => {
          set.delete(call);
        };
        call.on('cancelled', forget);
        call.on('close', forget);
        call.write({ status: this.statuses.get(service) ?? 'SERVICE_UNKNOWN' });
      },
    };
  }

  addToServer(server: grpc.Server): void {
    server.addService(loadProtocol().grpc.health.v1.Health.service, this.handlers());
  }

  /** Ends every Watch stream (call before server shutdown so it is not kept waiting). */
  endWatches(): void {
    for (const set of this.watchers.values()) {
      for (const call of set) call.end();
      set.clear();
    }
  }
}
