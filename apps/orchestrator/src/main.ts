import { InsecureTransportError } from '@ippro/protocol';
import { join } from 'node:path';
import { runOrchestratorProcess } from '@ippro/orchestration';
import { ORCHESTRATOR_USAGE, OrchestratorUsageError, parseOrchestratorArgs } from './orchestrator-args';

/** Where `npm run bundle:workflows` writes the pre-built workflow code (used when it matches the installed code). */
export const DEFAULT_WORKFLOW_BUNDLE = join(__dirname, 'workflow-bundle.js');

/**
 * `ippro-orchestrator [flags]`: the Temporal worker of the pruneModel workflow and its
 * activities. Runs until SIGTERM or SIGINT, then exits 0. Exit 2 for a bad flag, variable or configuration
 * file, 1 when it cannot start.
 */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(ORCHESTRATOR_USAGE);
    return 0;
  }
  try {
    return await runOrchestratorProcess(parseOrchestratorArgs(argv, process.env, { workflowBundle: DEFAULT_WORKFLOW_BUNDLE }));
  } catch (error) {
    process.stderr.write(`ippro-orchestrator: ${(error as Error).message}\n`);
    if (error instanceof OrchestratorUsageError) process.stderr.write(ORCHESTRATOR_USAGE);
    return error instanceof OrchestratorUsageError || error instanceof InsecureTransportError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
