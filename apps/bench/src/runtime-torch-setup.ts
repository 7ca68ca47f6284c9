import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { findTorchPython, TORCH_VENV, torchVersion } from './runtime-torch';

type Log = (line: string) => void;

function run(log: Log, command: string, args: string[]): boolean {
  log(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Debian's python3-torch is built against the generic libblas.so.3 and runs its matrix
 * products (dense layers, attention) on whichever one is installed: with netlib's reference
 * BLAS, the only one it pulls in, the ViT's steps took 9-14x longer than with OpenBLAS. The
 * OpenMP build of OpenBLAS follows torch.set_num_threads and OMP_NUM_THREADS like torch does.
 */
const DEBIAN_BLAS = 'libopenblas0-openmp';

function aptInstall(log: Log, packages: string[]): boolean {
  return run(log, 'apt-get', ['update']) && run(log, 'apt-get', ['install', '-y', '--no-install-recommends', ...packages]);
}

function debianPackageInstalled(name: string): boolean {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === 'install ok installed';
}

/** Debian's build (python3-torch, for the system Python) with an optimised BLAS. Needs root. */
function installDebianTorch(log: Log): boolean {
  if (!isRoot()) {
    log('not root: skipping apt-get install python3-torch');
    return false;
  }
  return aptInstall(log, ['python3-torch', DEBIAN_BLAS]);
}

/** Adds OpenBLAS to a Debian torch installed without it (before the BLAS came with it). */
function ensureDebianBlas(log: Log): void {
  if (!debianPackageInstalled('python3-torch') || debianPackageInstalled(DEBIAN_BLAS)) return;
  if (!isRoot()) {
    log(`Debian's torch runs on the reference BLAS here; as root, apt-get install ${DEBIAN_BLAS} speeds its matrix products up`);
    return;
  }
  log(`Debian's torch found without an optimised BLAS; installing ${DEBIAN_BLAS}`);
  aptInstall(log, [DEBIAN_BLAS]);
}

/** pip's torch wheel in a virtual environment of its own (larger: it brings CUDA libraries it will not use). */
function installPipTorch(log: Log): boolean {
  mkdirSync(dirname(TORCH_VENV), { recursive: true });
  const python = join(TORCH_VENV, 'bin', 'python');
  return run(log, 'python3', ['-m', 'venv', TORCH_VENV]) && run(log, python, ['-m', 'pip', 'install', '--no-input', 'torch']);
}

/**
 * Finds a Python that imports torch for the PyTorch peer of bench:runtime, installing one
 * if none does: Debian's python3-torch with apt-get, else pip's torch in a virtual
 * environment. Returns the interpreter, or undefined when both installs failed.
 */
export function ensureTorchPython(log: Log = (line) => console.log(`[setup:bench] ${line}`)): string | undefined {
  const found = findTorchPython();
  if (found !== undefined) {
    log(`torch ${torchVersion(found)} found for ${found}`);
    ensureDebianBlas(log);
    return found;
  }
  log('no Python here imports torch; installing the PyTorch CPU peer');
  if (!installDebianTorch(log)) {
    log('apt-get did not install python3-torch; trying pip');
    installPipTorch(log);
  }
  const installed = findTorchPython();
  log(installed === undefined ? 'torch could not be installed' : `torch ${torchVersion(installed)} installed for ${installed}`);
  return installed;
}

if (require.main === module) {
  process.exitCode = ensureTorchPython() === undefined ? 1 : 0;
}
