#!/usr/bin/env node
// Makes sure the pinned Helm is installed and prints its path on stdout; progress goes to stderr.
// `npm run check:deploy` renders deploy/helm/ippro with it. Helm is built from its Go module
// (`go install`, through the Go module proxy) into a cache directory named by its version, so a
// second call finds it and builds nothing. Needs Go (1.25 or newer for Helm 3.21).
//
//   node tools/ensure-helm.mjs      # exit 1 if it cannot be found or built
//
// Env: IPPRO_HELM_DIR  where the binary goes (default ~/.cache/ippro/tools/helm-<version>)
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const HELM_VERSION = 'v3.21.4';
const HELM_MODULE = 'helm.sh/helm/v3/cmd/helm';
// What Helm's own release build (its Makefile) stamps in with -ldflags; a plain `go install`
// reports version "v3.21" and renders charts for Kubernetes 1.20, below the chart's kubeVersion.
// 1.36: the client-go (v0.36.2) that Helm v3.21.4 builds with, as the Makefile derives it.
const HELM_LDFLAGS = [
  '-s',
  '-w',
  `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
  ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((pkg) => [`-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`, `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=36`]),
].join(' ');

const log = (message) => process.stderr.write(`[setup:helm] ${message}\n`);

export function helmDirectory(env = process.env) {
  return env.IPPRO_HELM_DIR || join(homedir(), '.cache', 'ippro', 'tools', `helm-${HELM_VERSION}`);
}

/** The version a Helm binary reports, or undefined when it is not there or does not run. */
function versionOf(path) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return undefined;
  }
  const run = spawnSync(path, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The path of the pinned Helm, built first when the cache does not hold it. Throws with the reason. */
export function ensureHelm(env = process.env) {
  const directory = helmDirectory(env);
  const path = join(directory, 'helm');
  const found = versionOf(path);
  if (found === HELM_VERSION) return path;
  log(`${found === undefined ? 'no helm' : `helm ${found}`} in ${directory}; building ${HELM_MODULE}@${HELM_VERSION} with go install`);
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
    throw new Error(`go is not on PATH: Helm ${HELM_VERSION} is built from its Go module (install Go 1.25 or newer)`);
  }
  mkdirSync(directory, { recursive: true });
  const started = Date.now();
  // As Helm's release build: static (no cgo), -trimpath, its version stamps.
  const built = spawnSync('go', ['install', '-trimpath', `-ldflags=${HELM_LDFLAGS}`, `${HELM_MODULE}@${HELM_VERSION}`], {
    env: { ...env, GOBIN: directory, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`go install ${HELM_MODULE}@${HELM_VERSION} failed (exit ${built.status}); see go's output above`);
  const installed = versionOf(path);
  if (installed !== HELM_VERSION) throw new Error(`go install finished but ${path} reports ${installed ?? 'nothing'}, not ${HELM_VERSION}`);
  log(`helm ${HELM_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return path;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const path = ensureHelm();
    log(`helm ${HELM_VERSION}: ${path}`);
    process.stdout.write(`${path}\n`);
  } catch (error) {
    log(error.message);
    process.exitCode = 1;
  }
}
