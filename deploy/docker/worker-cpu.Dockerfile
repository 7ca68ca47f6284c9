# syntax=docker/dockerfile:1
# The CPU compute worker: `ippro worker --backend tensorflow` on @tensorflow/tfjs-node 4.22.0 (the
# TensorFlow C library with its oneDNN kernels). One worker per core, or one with --slots N.
# Build from the repository root (internet access needed for npm and the libtensorflow download
# of tfjs-node's install script; docs/install.md builds the same backend from registries only):
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t ippro-worker-cpu .

FROM node:20-bookworm AS build
WORKDIR /app
COPY . .
# Build every workspace, drop the development tools, then add the native backend (not in the lockfile).
RUN npm ci --no-audit --no-fund \
 && npx tsc -b tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm install --no-save --omit=dev --no-audit --no-fund @tensorflow/tfjs-node@4.22.0 \
 && node -e "require('@tensorflow/tfjs-node')"

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    IPPRO_PROTO_DIR=/app/proto \
    HOME=/home/ippro \
    TF_CPP_MIN_LOG_LEVEL=1
RUN groupadd --system --gid 10001 ippro \
 && useradd --system --uid 10001 --gid ippro --home-dir /home/ippro --create-home --shell /usr/sbin/nologin ippro \
 && mkdir -p /var/cache/ippro /data \
 && chown ippro:ippro /var/cache/ippro /data
WORKDIR /app
COPY --from=build /app /app
USER 10001:10001
# 7071: gRPC over mutual TLS (ippro.v1.WorkerService, grpc.health.v1); 7072: grpc.health.v1 alone,
# plaintext, for probes; 9464: Prometheus metrics. The certificates are mounted at /etc/ippro/tls
# (ca.crt, tls.crt, tls.key); without them the worker refuses to start (docs/deploy.md).
EXPOSE 7071 7072 9464
ENTRYPOINT ["node", "/app/apps/worker/dist/main.js"]
CMD ["--host", "0.0.0.0", "--port", "7071", "--tls-cert", "/etc/ippro/tls/tls.crt", "--tls-key", "/etc/ippro/tls/tls.key", "--tls-ca", "/etc/ippro/tls/ca.crt", "--health-port", "7072", "--backend", "tensorflow", "--metrics-port", "9464", "--cache-dir", "/var/cache/ippro", "--abort-on-term"]
