# syntax=docker/dockerfile:1
# The GPU compute worker: `ippro worker --backend tensorflow-gpu` on @tensorflow/tfjs-node-gpu 4.22.0,
# whose libtensorflow 2.9 needs CUDA 11.2 and cuDNN 8.1: hence the CUDA 11.2.2 + cuDNN 8 runtime base.
# One worker per GPU. Build from the repository root (internet access needed for npm and the
# libtensorflow download of tfjs-node-gpu's install script):
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t ippro-worker-gpu .

# Debian 11 has the glibc of Ubuntu 20.04 (2.31): what is built here runs on the base below.
FROM node:20-bullseye AS build
WORKDIR /app
COPY . .
# Build every workspace, drop the development tools, then add the GPU backend (not in the lockfile).
RUN npm ci --no-audit --no-fund \
 && npx tsc -b tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm install --no-save --omit=dev --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
ENV NODE_ENV=production \
    IPPRO_PROTO_DIR=/app/proto \
    HOME=/home/ippro \
    TF_CPP_MIN_LOG_LEVEL=1
COPY --from=build /usr/local/bin/node /usr/local/bin/node
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
CMD ["--host", "0.0.0.0", "--port", "7071", "--tls-cert", "/etc/ippro/tls/tls.crt", "--tls-key", "/etc/ippro/tls/tls.key", "--tls-ca", "/etc/ippro/tls/ca.crt", "--health-port", "7072", "--backend", "tensorflow-gpu", "--metrics-port", "9464", "--cache-dir", "/var/cache/ippro", "--abort-on-term"]
