// deploy/ checked offline: Dockerfiles with hadolint, manifests against the Kubernetes schemas, and
// both against the code (flags the parsers accept, probes, images). Proves too that a broken
// manifest or Dockerfile is caught, so that a green check means something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'tools/check-deploy.mjs');

function check(...args) {
  const run = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const first = check();
const skip = first.status === 3 ? `hadolint or kubernetes-validate cannot be installed here: ${first.output.trim().split('\n').pop()}` : false;
if (skip) process.stderr.write(`# skip: ${skip}\n`);

test('deploy/ passes hadolint, kubernetes-validate --strict and the checks against the code', { skip }, () => {
  assert.equal(first.status, 0, first.output);
  assert.match(first.output, /hadolint: 3 Dockerfiles clean/);
  assert.match(first.output, /kubernetes-validate --strict \(Kubernetes 1\.27\.0\): \d+ files valid/);
  assert.match(first.output, /deploy\/ passes/);
});

test('a broken manifest or Dockerfile fails the check, naming what is wrong', { skip }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ippro-deploy-check-'));
  try {
    const k8s = join(scratch, 'k8s');
    const docker = join(scratch, 'docker');
    cpSync(join(root, 'deploy/k8s'), k8s, { recursive: true });
    cpSync(join(root, 'deploy/docker'), docker, { recursive: true });
    const worker = join(k8s, 'worker-gpu.yaml');
    writeFileSync(
      worker,
      readFileSync(worker, 'utf8')
        .replace('  replicas: 2\n', '  replicas: 2\n  replica: 2\n')
        .replace('--abort-on-term', '--slots=zero')
        .replace('service: ippro.v1.WorkerService', 'service: ippro.v1.Worker'),
    );
    // A CPU worker without its client CA (no mutual TLS) and without the health port its probes use.
    const cpuWorker = join(k8s, 'worker-cpu.yaml');
    writeFileSync(cpuWorker, readFileSync(cpuWorker, 'utf8').replace(/^ *- --tls-ca=.*\n/m, '').replace(/^ *- --health-port=.*\n/m, ''));
    const orchestrator = join(docker, 'orchestrator.Dockerfile');
    writeFileSync(orchestrator, readFileSync(orchestrator, 'utf8').replace('FROM node:20-bookworm-slim', 'FROM node').replace('CMD ["--metrics-port"', 'CMD ["--metrics-port", "-1", "--x"'));
    const broken = check('--k8s-dir', k8s, '--docker-dir', docker);
    assert.equal(broken.status, 1, broken.output);
    assert.match(broken.output, /hadolint:[\s\S]*DL3006/);
    assert.match(broken.output, /kubernetes-validate \(Kubernetes 1\.27\.0\):[\s\S]*replica/);
    assert.match(broken.output, /ippro-worker-gpu refuses its arguments .*--slots must be an integer >= 1, got 'zero'/);
    assert.match(broken.output, /the readiness probe must check the service ippro\.v1\.WorkerService/);
    assert.match(broken.output, /orchestrator\.Dockerfile: ippro-orchestrator refuses its arguments/);
    assert.match(broken.output, /ippro-worker-cpu\/worker: the worker serves without mutual TLS/);
    assert.match(broken.output, /ippro-worker-cpu\/worker: the readiness probe checks port 7072, the worker serves health checks on 7071/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
