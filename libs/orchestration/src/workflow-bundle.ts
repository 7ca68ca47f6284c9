import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** The package whose exported functions are the workflows (a name, not an import: the worker bundles it). */
const WORKFLOWS_PACKAGE = '@ippro/workflows';
/** The workspace packages whose compiled code goes into the bundle: the workflows and their @ippro dependencies. */
function bundledPackages(): string[] {
  const found = new Set<string>();
  const visit = (name: string): void => {
    if (found.has(name)) return;
    found.add(name);
    const manifest = require(`${name}/package.json`) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) if (dependency.startsWith('@ippro/')) visit(dependency);
  };
  visit(WORKFLOWS_PACKAGE);
  return [...found].sort();
}

/** The module whose exported functions are the workflows (the compiled @ippro/workflows). */
export function workflowsPath(): string {
  return require.resolve(WORKFLOWS_PACKAGE);
}

function compiledFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...compiledFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.js') && !entry.name.endsWith('.test.js')) files.push(path);
  }
  return files.sort();
}

/** sha256 over the compiled workflow code and the SDK version: a bundle from other code is stale. */
export function workflowSourceHash(): string {
  const hash = createHash('sha256');
  hash.update(`@temporalio/workflow@${(require('@temporalio/workflow/package.json') as { version: string }).version}\n`);
  for (const name of bundledPackages()) {
    const dir = dirname(require.resolve(name));
    for (const file of compiledFiles(dir)) {
      hash.update(`${name}/${relative(dir, file)}\n`);
      hash.update(readFileSync(file));
    }
  }
  return hash.digest('hex');
}

/** The file next to a bundle that records which workflow code it was built from. */
export const bundleManifestPath = (bundle: string): string => `${bundle}.json`;

interface BundleManifest {
  sourceHash: string;
  builtAt: string;
}

/** Bundles the workflow code once (webpack), e.g. at build time; start workers with `workflowBundlePath`. */
export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath() });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  const manifest: BundleManifest = { sourceHash: workflowSourceHash(), builtAt: new Date().toISOString() };
  await writeFile(bundleManifestPath(outFile), `${JSON.stringify(manifest, null, 2)}\n`);
  return outFile;
}

export type BundleCheck = { usable: true; note: string } | { usable: false; reason: string };

/**
 * Whether a pre-built bundle holds the workflow code installed here: running replays with other
 * code breaks running workflows, so a bundle whose manifest names other code is not usable.
 */
export function checkWorkflowBundle(bundle: string): BundleCheck {
  if (!existsSync(bundle)) return { usable: false, reason: `${bundle} does not exist` };
  const manifestFile = bundleManifestPath(bundle);
  if (!existsSync(manifestFile)) return { usable: true, note: `${bundle} (no ${manifestFile}: its workflow code is not checked)` };
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BundleManifest;
  } catch (error) {
    return { usable: false, reason: `${manifestFile} is not valid JSON (${(error as Error).message})` };
  }
  if (manifest.sourceHash !== workflowSourceHash()) {
    return { usable: false, reason: `${bundle} was built (${manifest.builtAt}) from other workflow code than the one installed; rebuild it with --write-bundle` };
  }
  return { usable: true, note: `${bundle} (built ${manifest.builtAt})` };
}
