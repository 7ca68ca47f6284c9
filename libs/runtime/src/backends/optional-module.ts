/**
 * Outcome of loading a package that may legitimately be absent (the native TensorFlow
 * bindings are installed only on nodes that can run them).
 */
export type OptionalModule =
  | { status: 'loaded'; exports: unknown }
  | { status: 'missing' }
  | { status: 'broken'; error: string };

export function loadOptionalModule(packageName: string): OptionalModule {
  try {
    // A computed require: the package is not a dependency, so the bundler and the
    // type checker must not try to resolve it at build time.
    const exports: unknown = require(packageName);
    return { status: 'loaded', exports };
  } catch (error) {
    if (isMissingPackage(error, packageName)) return { status: 'missing' };
    return { status: 'broken', error: firstLine(error) };
  }
}

function isMissingPackage(error: unknown, packageName: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'MODULE_NOT_FOUND' && error.message.includes(`'${packageName}'`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0] ?? text;
}
