#!/usr/bin/env node
// setup-native.mjs: air-gapped install of @tensorflow/tfjs-node (native TensorFlow
// CPU backend for TensorFlow.js) without the libtensorflow download that its
// install script performs.
//
// Only package registries are used:
//   npm   @tensorflow/tfjs-node@4.22.0 (installed with --ignore-scripts --no-save)
//   PyPI  tensorflow-cpu==<TF> wheel (for its shared libraries and C API headers)
// The wheel's libtensorflow_cc.so.2 exports the TF_* / TFE_* C API; it is staged as
// deps/lib/libtensorflow.so(.2) next to libtensorflow_framework.so.2, the C API
// headers go to deps/include, and binding/ is compiled with node-gyp (npm's bundled
// copy, Node headers from the local nodedir).
//
// Usage: node tools/setup-native.mjs [--force] [--tf-version X.Y.Z] [--check]
//   --force         rebuild even if a working binding is present
//   --tf-version    TensorFlow wheel version (default below; env IPPRO_TF_VERSION)
//   --check         only verify the current install; exit 1 if it does not work
// Env: IPPRO_NATIVE_CACHE  wheel cache dir (default ~/.cache/ippro/native)
//
// Idempotent: a second run detects a working binding and exits in about a second.
// See docs/install.md.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TFJS_NODE_VERSION = '4.22.0';
// libtensorflow 2.9.1 (what tfjs-node 4.22 downloads) has no usable wheel: the
// 2.9.1 wheel (cp310 only) keeps the C API inside the Python extension
// _pywrap_tensorflow_internal.so, which cannot be loaded outside a Python process
// (dlopen: "undefined symbol: PyTuple_Type"). Since TF 2.12 the wheel carries
// libtensorflow_cc.so.2 with the full C API and no Python dependency.
const DEFAULT_TF_VERSION = '2.20.0';
const WHEEL_PYTHON = '311'; // any cp3xx tag: the C/C++ libraries do not use Python
const WHEEL_PLATFORM = 'manylinux2014_x86_64';

// C API symbols that the two staged libraries must export (checked with nm -D).
const REQUIRED_SYMBOLS = [
  'TF_NewStatus', 'TF_NewSession', 'TF_SessionRun', 'TF_LoadSessionFromSavedModel',
  'TF_NewTensor', 'TF_Version', 'TFE_NewContext', 'TFE_NewOp', 'TFE_Execute',
  'TFE_TensorHandleResolve', 'TFE_ContextListDevices',
];

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');
const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const DEPS_DIR = path.join(PKG_DIR, 'deps');
const MARKER = path.join(DEPS_DIR, 'ippro-native.json');

// ---------------------------------------------------------------- helpers
const t0 = Date.now();
let stepNo = 0;
function step(msg) {
  stepNo += 1;
  console.log(`\n[setup-native] step ${stepNo}: ${msg}  (+${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}
function info(msg) { console.log(`[setup-native]   ${msg}`); }
function fail(msg, hint) {
  console.error(`\n[setup-native] FAILED: ${msg}`);
  if (hint) console.error(`[setup-native] hint: ${hint}`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) return { ok: false, status: -1, stdout: '', stderr: String(r.error) };
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function runOrFail(what, cmd, args, opts = {}, hint) {
  info(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error || r.status !== 0) {
    fail(`${what} (exit ${r.status ?? r.error})`, hint);
  }
}
function parseArgs(argv) {
  const out = { force: false, check: false, explicitVersion: Boolean(process.env.IPPRO_TF_VERSION),
    tfVersion: process.env.IPPRO_TF_VERSION || DEFAULT_TF_VERSION };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') out.force = true;
    else if (a === '--check') out.check = true;
    else if (a === '--tf-version') { out.tfVersion = argv[++i]; out.explicitVersion = true; }
    else if (a.startsWith('--tf-version=')) { out.tfVersion = a.slice('--tf-version='.length); out.explicitVersion = true; }
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tools/setup-native.mjs [--force] [--check] [--tf-version X.Y.Z]');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return out;
}

// Verify in a child process (a failing dlopen must not kill this script):
// the backend is 'tensorflow', an op runs, and tfjs-node shares the root tfjs-core.
function verifyBinding() {
  const probe = `
    const path = require('path');
    const rootCore = require.resolve('@tensorflow/tfjs-core', { paths: [${JSON.stringify(ROOT)}] });
    const nodeDir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json', { paths: [${JSON.stringify(ROOT)}] }));
    const nodeCore = require.resolve('@tensorflow/tfjs-core', { paths: [nodeDir] });
    const tf = require(path.join(nodeDir));
    const core = require(rootCore);
    const s = tf.tensor1d([1, 2, 3]).square().sum().dataSync()[0];
    console.log(JSON.stringify({
      backend: tf.getBackend(), sameCoreFile: rootCore === nodeCore,
      sameEngine: core.engine() === tf.engine(), sum: s,
      tfjs: tf.version['tfjs-core'], tfjsNode: tf.version['tfjs-node'],
    }));`;
  const r = run(process.execPath, ['-e', probe], {
    cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (!r.ok) return { ok: false, why: (r.stderr || r.stdout).trim().split('\n').slice(0, 6).join('\n') };
  let res;
  try { res = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { return { ok: false, why: r.stdout }; }
  if (res.backend !== 'tensorflow') return { ok: false, why: `backend is ${res.backend}`, res };
  if (!res.sameCoreFile || !res.sameEngine) return { ok: false, why: 'tfjs-node loaded a second @tensorflow/tfjs-core copy', res };
  if (res.sum !== 14) return { ok: false, why: `wrong result ${res.sum}`, res };
  return { ok: true, res };
}

// ---------------------------------------------------------------- steps
function checkPlatform() {
  step('check platform and build tools');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`only linux-x64 is supported by this path (this is ${process.platform}-${process.arch})`);
  }
  for (const [tool, args, pkg] of [
    ['python3', ['-m', 'pip', '--version'], 'python3-pip'],
    ['make', ['--version'], 'make'],
    ['g++', ['--version'], 'g++'],
    ['nm', ['--version'], 'binutils'],
  ]) {
    const r = run(tool, args);
    if (!r.ok) fail(`${tool} is needed but not usable`, `apt-get install -y ${pkg}`);
  }
  info(`node ${process.version} (N-API ${process.versions.napi}), ${os.cpus().length} cpus`);
}

function findNodeDir() {
  // node-gyp downloads Node headers unless given a nodedir; offline we need local ones.
  const candidates = [];
  const npmCfg = run('npm', ['config', 'get', 'nodedir'], { cwd: ROOT });
  if (npmCfg.ok && npmCfg.stdout.trim() && npmCfg.stdout.trim() !== 'undefined') candidates.push(npmCfg.stdout.trim());
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local');
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h')) &&
        fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) return dir;
  }
  fail('Node.js headers (include/node/node_api.h, common.gypi) not found in ' + candidates.join(', '),
    'install the headers of this exact Node version (e.g. the distribution\'s nodejs-dev/libnode-dev ' +
    'package matching `node -v`), then `npm config set nodedir <prefix>`');
}

function findNodeGyp() {
  const npmRoot = run('npm', ['root', '-g']);
  const cands = [];
  if (npmRoot.ok) cands.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  cands.push(path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of cands) if (fs.existsSync(c)) return [process.execPath, [c]];
  return ['npx', ['--yes', 'node-gyp@11']]; // from the npm registry
}

function installPackage() {
  step(`install @tensorflow/tfjs-node@${TFJS_NODE_VERSION} (npm, --ignore-scripts, --no-save)`);
  const pj = path.join(PKG_DIR, 'package.json');
  if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).version === TFJS_NODE_VERSION) {
    info(`already present at ${path.relative(ROOT, PKG_DIR)}`);
  } else {
    // --ignore-scripts: its install script would download libtensorflow from outside
    // the registries. --no-save: package.json and package-lock.json stay untouched.
    runOrFail('npm install of @tensorflow/tfjs-node', 'npm',
      ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund',
        `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], { cwd: ROOT });
  }
  // One tfjs-core for the whole repo: tfjs-node must resolve the root copy.
  const rootCore = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core', 'package.json');
  if (!fs.existsSync(rootCore)) fail('node_modules/@tensorflow/tfjs-core is missing', 'run `npm ci` first');
  const coreVersion = JSON.parse(fs.readFileSync(rootCore, 'utf8')).version;
  if (coreVersion !== TFJS_NODE_VERSION) {
    fail(`root @tensorflow/tfjs-core is ${coreVersion}, tfjs-node ${TFJS_NODE_VERSION} needs the same version`);
  }
  const nested = run('find', [path.join(ROOT, 'node_modules'), '-path', '*/node_modules/@tensorflow/tfjs-core/package.json']);
  const copies = nested.stdout.trim().split('\n').filter(Boolean);
  if (copies.length !== 1) fail(`found ${copies.length} copies of @tensorflow/tfjs-core:\n  ${copies.join('\n  ')}`);
  info(`single @tensorflow/tfjs-core ${coreVersion}: ${path.relative(ROOT, copies[0])}`);
}

function cacheDir() {
  const d = process.env.IPPRO_NATIVE_CACHE || path.join(os.homedir(), '.cache', 'ippro', 'native');
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function fetchWheel(tfVersion) {
  step(`fetch tensorflow-cpu==${tfVersion} wheel from PyPI (pip download, cached)`);
  const dir = path.join(cacheDir(), 'wheels');
  fs.mkdirSync(dir, { recursive: true });
  const find = () => fs.readdirSync(dir).find((f) => f.startsWith(`tensorflow_cpu-${tfVersion}-`) && f.endsWith('.whl'));
  let whl = find();
  if (whl) {
    info(`cached: ${path.join(dir, whl)}`);
  } else {
    runOrFail(`pip download tensorflow-cpu==${tfVersion}`, 'python3',
      ['-m', 'pip', 'download', `tensorflow-cpu==${tfVersion}`, '--no-deps', '--only-binary=:all:',
        '--python-version', WHEEL_PYTHON, '--platform', WHEEL_PLATFORM, '--dest', dir,
        '--disable-pip-version-check', '--progress-bar', 'off'], {},
      'the version must exist on PyPI as a manylinux x86_64 wheel (tensorflow-cpu 2.12 or newer)');
    whl = find();
    if (!whl) fail(`pip reported success but no tensorflow_cpu-${tfVersion}-*.whl in ${dir}`);
  }
  return path.join(dir, whl);
}

// Extract the two shared libraries and the header closure of the headers the
// binding includes. Done in Python (zipfile), which pip already requires.
function stageDeps(wheel, tfVersion) {
  step(`stage libraries and C API headers into ${path.relative(ROOT, DEPS_DIR)}`);
  // Staged into deps.new and swapped in only after the checks, so a bad wheel
  // leaves a working install alone.
  const staging = `${DEPS_DIR}.new`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, 'lib'), { recursive: true });
  fs.mkdirSync(path.join(staging, 'include'), { recursive: true });
  const bindingDir = path.join(PKG_DIR, 'binding');
  const roots = new Set();
  for (const f of fs.readdirSync(bindingDir)) {
    const txt = fs.readFileSync(path.join(bindingDir, f), 'utf8');
    for (const m of txt.matchAll(/#\s*include\s+"(tensorflow\/[^"]+)"/g)) roots.add(m[1]);
  }
  const py = `
import re, sys, zipfile, shutil, os
whl, deps, roots = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
z = zipfile.ZipFile(whl)
names = set(z.namelist())
libs = {'tensorflow/libtensorflow_cc.so.2': 'libtensorflow_cc.so.2',
        'tensorflow/libtensorflow_framework.so.2': 'libtensorflow_framework.so.2'}
for src, dst in libs.items():
    if src not in names:
        sys.exit('wheel has no ' + src + ' (TensorFlow < 2.12 wheels keep the C API in a Python extension)')
    with z.open(src) as i, open(os.path.join(deps, 'lib', dst), 'wb') as o:
        shutil.copyfileobj(i, o, 16 << 20)
    os.chmod(os.path.join(deps, 'lib', dst), 0o755)
inc = 'tensorflow/include/'
todo, seen, missing = list(roots), set(), []
while todo:
    h = todo.pop()
    if h in seen: continue
    seen.add(h)
    if inc + h not in names:
        missing.append(h); continue
    data = z.read(inc + h)
    out = os.path.join(deps, 'include', h)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, 'wb').write(data)
    todo += re.findall(r'#\\s*include\\s+"([^"]+)"', data.decode('utf8', 'replace'))
if missing:
    sys.exit('headers missing from wheel: ' + ', '.join(sorted(missing)))
print(len(seen))
`;
  info(`extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and headers for: ${[...roots].join(', ')}`);
  const r = run('python3', ['-c', py, wheel, staging, [...roots].join(',')]);
  if (!r.ok) {
    fs.rmSync(staging, { recursive: true, force: true });
    fail(`extracting from ${path.basename(wheel)}: ${r.stderr.trim().split('\n').pop()}`,
      'use tensorflow-cpu 2.12 or newer (--tf-version)');
  }
  info(`${r.stdout.trim()} headers staged`);

  const lib = path.join(staging, 'lib');
  // The wheel's libraries carry a full .symtab (~190 MB); the dynamic symbols stay.
  for (const so of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    const r2 = run('strip', ['--strip-unneeded', path.join(lib, so)]);
    if (!r2.ok) info(`strip ${so} skipped: ${r2.stderr.trim()}`);
  }
  info(`libtensorflow_cc.so.2: ${diskUsage(path.join(lib, 'libtensorflow_cc.so.2'))} after strip --strip-unneeded`);
  // binding.gyp links -ltensorflow -ltensorflow_framework with rpath $ORIGIN/../../deps/lib.
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so.2'));
  fs.symlinkSync('libtensorflow.so.2', path.join(lib, 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));

  // The C API must be exported by libtensorflow_cc.so.2, and it must not need Python.
  // (TF_NewStatus, TF_NewTensor, ... live in libtensorflow_framework.so.2; the rest in _cc.)
  const exported = new Set();
  for (const so of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    const nm = run('nm', ['-D', '--defined-only', path.join(lib, so)]);
    if (!nm.ok) fail(`nm on ${so}: ${nm.stderr}`);
    for (const l of nm.stdout.split('\n')) {
      const sym = l.trim().split(/\s+/)[2];
      if (sym) exported.add(sym.replace(/@.*$/, '')); // strip version tag, e.g. @@tensorflow
    }
  }
  const missingSyms = REQUIRED_SYMBOLS.filter((s) => !exported.has(s));
  const und = run('nm', ['-D', '--undefined-only', path.join(lib, 'libtensorflow_cc.so.2')]);
  const pySyms = und.stdout.split('\n').filter((l) => /\s_?Py/.test(l));
  if (missingSyms.length || pySyms.length) fs.rmSync(staging, { recursive: true, force: true });
  if (missingSyms.length) fail(`tensorflow-cpu ${tfVersion} libraries do not export ${missingSyms.join(', ')}`);
  if (pySyms.length) fail(`libtensorflow_cc.so.2 needs Python symbols (${pySyms[0].trim()}, ...)`);
  info(`C API symbols present (${REQUIRED_SYMBOLS.length} checked), no Python dependency`);
  fs.rmSync(DEPS_DIR, { recursive: true, force: true });
  fs.renameSync(staging, DEPS_DIR);
}

function buildBinding(nodedir) {
  step('build binding with node-gyp (offline: local Node headers)');
  const napi = Math.min(8, Number(process.versions.napi)); // package.json binary.napi_versions tops at 8
  const [cmd, pre] = findNodeGyp();
  const modulePath = path.join(PKG_DIR, 'lib', `napi-v${napi}`); // absolute: gyp resolves relative ones against build/
  fs.rmSync(path.join(PKG_DIR, 'build'), { recursive: true, force: true });
  runOrFail('node-gyp rebuild', cmd,
    [...pre, 'rebuild', `--nodedir=${nodedir}`, `-j`, String(os.cpus().length),
      '--module_name=tfjs_binding', `--module_path=${modulePath}`, `--napi_build_version=${napi}`],
    { cwd: PKG_DIR, env: { ...process.env, npm_config_nodedir: nodedir } },
    'needs g++, make and python3; see the compiler output above');
  const addon = path.join(modulePath, 'tfjs_binding.node');
  if (!fs.existsSync(addon)) fail(`node-gyp succeeded but ${addon} is missing`);
  // Intermediate objects are not needed at run time.
  fs.rmSync(path.join(PKG_DIR, 'build'), { recursive: true, force: true });
  const ldd = run('ldd', ['-r', addon]);
  const undef = (ldd.stdout + ldd.stderr).split('\n').filter((l) => /undefined symbol|not found/.test(l) && !/napi_|node_/.test(l));
  if (undef.length) fail(`unresolved after linking:\n  ${undef.slice(0, 10).join('\n  ')}`);
  info(`built ${path.relative(ROOT, addon)}`);
}

function diskUsage(p) {
  const r = run('du', ['-sh', p]);
  return r.ok ? r.stdout.split('\t')[0] : '?';
}

// ---------------------------------------------------------------- main
const opts = parseArgs(process.argv.slice(2));
console.log(`[setup-native] repo ${ROOT}; tfjs-node ${TFJS_NODE_VERSION}; TensorFlow wheel ${opts.tfVersion}`);

if (fs.existsSync(path.join(PKG_DIR, 'package.json')) && (!opts.force || opts.check)) {
  const v = verifyBinding();
  const marker = fs.existsSync(MARKER) ? JSON.parse(fs.readFileSync(MARKER, 'utf8')) : {};
  if (v.ok && opts.explicitVersion && !opts.check && marker.tensorflowWheel !== opts.tfVersion) {
    info(`installed libtensorflow is from tensorflow-cpu ${marker.tensorflowWheel ?? '?'}, ${opts.tfVersion} requested; rebuilding`);
  } else if (v.ok) {
    console.log(`[setup-native] OK: working 'tensorflow' backend already installed ` +
      `(tfjs-node ${v.res.tfjsNode}, libtensorflow from tensorflow-cpu ${marker.tensorflowWheel ?? '?'}). ` +
      'Use --force to rebuild.');
    process.exit(0);
  }
  if (!v.ok) {
    if (opts.check) fail(`tfjs-node is installed but not working: ${v.why}`, 'run `npm run setup:native`');
    info(`existing install not usable (${v.why.split('\n')[0]}); (re)building`);
  }
} else if (opts.check) {
  fail('@tensorflow/tfjs-node is not installed', 'run `npm run setup:native`');
}

checkPlatform();
const nodedir = findNodeDir();
info(`Node headers: ${nodedir}/include/node`);
installPackage();
const wheel = fetchWheel(opts.tfVersion);
stageDeps(wheel, opts.tfVersion);
buildBinding(nodedir);

step('verify: require(\'@tensorflow/tfjs-node\') in a fresh process');
const v = verifyBinding();
if (!v.ok) fail(`the built binding does not work: ${v.why}`);
fs.writeFileSync(MARKER, JSON.stringify({
  tfjsNode: TFJS_NODE_VERSION, tensorflowWheel: opts.tfVersion, wheel: path.basename(wheel),
  builtWith: process.version, napi: process.versions.napi, date: new Date().toISOString(),
}, null, 2) + '\n');
info(`backend=${v.res.backend} tfjs-core=${v.res.tfjs} single tfjs-core: ${v.res.sameCoreFile}`);
console.log(`\n[setup-native] DONE in ${((Date.now() - t0) / 1000).toFixed(1)}s; ` +
  `${path.relative(ROOT, PKG_DIR)} is ${diskUsage(PKG_DIR)}, wheel cache ${diskUsage(cacheDir())}. ` +
  'Thread count: TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS (see docs/install.md).');
