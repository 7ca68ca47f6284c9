// deploy/ checked offline: Dockerfiles with hadolint, the Helm chart rendered with each value set,
// manifests against the Kubernetes schemas, and all of them against the code (flags the parsers
// accept, mutual TLS, certificates, probes, images). Proves too that a broken manifest, chart or
// Dockerfile is caught, so that a green check means something.
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
const skip = first.status === 3 ? `hadolint, kubernetes-validate or helm cannot be installed here: ${first.output.trim().split('\n').pop()}` : false;
if (skip) process.stderr.write(`# skip: ${skip}\n`);

test('deploy/ passes hadolint, kubernetes-validate --strict and the checks against the code', { skip }, () => {
  assert.equal(first.status, 0, first.output);
  assert.match(first.output, /hadolint: 3 Dockerfiles clean/);
  assert.match(first.output, /kubernetes-validate --strict \(Kubernetes 1\.27\.0\): \d+ files valid/);
  assert.match(first.output, /helm: 6 value sets rendered \(default, cert-manager-issuer, cert-manager, gpu-workers, s3-store, schedules\)/);
  assert.match(first.output, /deploy\/ passes/);
});

test('a broken manifest, chart or Dockerfile fails the check, naming what is wrong', { skip }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ippro-deploy-check-'));
  try {
    const k8s = join(scratch, 'k8s');
    const docker = join(scratch, 'docker');
    const chart = join(scratch, 'ippro');
    cpSync(join(root, 'deploy/k8s'), k8s, { recursive: true });
    cpSync(join(root, 'deploy/docker'), docker, { recursive: true });
    cpSync(join(root, 'deploy/helm/ippro'), chart, { recursive: true });
    const edit = (path, change) => writeFileSync(path, change(readFileSync(path, 'utf8')));
    // The GPU workers' value set: a slot count the worker refuses.
    edit(join(chart, 'ci/gpu-workers-values.yaml'), (text) => `${text}  slots: zero\n`);
    // cert-manager: the orchestrator's certificate no longer names its Service, and no certificate is a client's.
    edit(join(chart, 'templates/certificates.yaml'), (text) => text.replace(/^ *- client auth\n/m, '').replace(/^ *- \{\{ include "ippro.serviceHost".*\n/m, ''));
    // The default rendering (deploy/k8s): an unknown field, a wrong health service, a CPU worker
    // without its client CA (no mutual TLS) and without the health port its probes use.
    edit(join(k8s, 'ippro.yaml'), (text) =>
      text
        .replace('  replicas: 2\n', '  replicas: 2\n  replica: 2\n')
        .replace('service: ippro.v1.WorkerService', 'service: ippro.v1.Worker')
        .replace(/^ *- --tls-ca=.*\n/m, '')
        .replace(/^ *- --health-port=.*\n/m, ''),
    );
    edit(join(docker, 'orchestrator.Dockerfile'), (text) => text.replace('FROM node:20-bookworm-slim', 'FROM node').replace('CMD ["--metrics-port"', 'CMD ["--metrics-port", "-1", "--x"'));
    const broken = check('--k8s-dir', k8s, '--docker-dir', docker, '--chart', chart);
    assert.equal(broken.status, 1, broken.output);
    assert.match(broken.output, /hadolint:[\s\S]*DL3006/);
    assert.match(broken.output, /kubernetes-validate \(Kubernetes 1\.27\.0\):[\s\S]*replica/);
    assert.match(broken.output, /ippro\.yaml is not the chart's default rendering/);
    assert.match(broken.output, /gpu-workers values\) ippro-worker-gpu\/worker: ippro-worker-gpu refuses its arguments .*--slots must be an integer >= 1, got 'zero'/);
    assert.match(broken.output, /the readiness probe must check the service ippro\.v1\.WorkerService/);
    assert.match(broken.output, /orchestrator\.Dockerfile: ippro-orchestrator refuses its arguments/);
    assert.match(broken.output, /ippro-worker-cpu\/worker: the worker serves without mutual TLS/);
    assert.match(broken.output, /ippro-worker-cpu\/worker: the readiness probe checks port 7072, the worker serves health checks on 7071/);
    assert.match(broken.output, /cert-manager values\) ippro-orchestrator: Certificate ippro-orchestrator lacks the usage "client auth"/);
    assert.match(broken.output, /cert-manager values\) ippro-worker-cpu\/worker: it dials ippro-orchestrator\.ippro\.svc\.cluster\.local, which the certificate ippro-orchestrator of ippro-orchestrator does not name/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
