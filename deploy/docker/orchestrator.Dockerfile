# syntax=docker/dockerfile:1
# The orchestrator: `ippro-orchestrator`, the Temporal worker of the pruning workflows and their
# activities, dispatching compute to the workers (--workers dns:...) and keeping artifacts in the
# store (--store s3://... shared with the workers). Its own work (merges, surgery, averaging) is
# light and runs on the WebAssembly backend. The workflow code is bundled here, at build time.
# Build from the repository root:
#   docker build -f deploy/docker/orchestrator.Dockerfile -t ippro-orchestrator .

FROM node:20-bookworm AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx tsc -b tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && node apps/orchestrator/dist/main.js --write-bundle apps/orchestrator/dist/workflow-bundle.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    IPPRO_PROTO_DIR=/app/proto \
    HOME=/home/ippro
RUN groupadd --system --gid 10001 ippro \
 && useradd --system --uid 10001 --gid ippro --home-dir /home/ippro --create-home --shell /usr/sbin/nologin ippro
WORKDIR /app
COPY --from=build /app /app
USER 10001:10001
# 9464: Prometheus metrics and /healthz; 7070: the artifact service it serves to clients (optional with --store)
EXPOSE 9464 7070
ENTRYPOINT ["node", "/app/apps/orchestrator/dist/main.js"]
CMD ["--metrics-port", "9464", "--backend", "wasm"]
