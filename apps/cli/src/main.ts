import { Command, CommanderError } from 'commander';
import { inspectCommand } from './commands/inspect';
import { importCommand } from './commands/import';
import { exportCommand } from './commands/export';
import { pruneCommand } from './commands/prune';
import { compareCommand } from './commands/compare';
import { reportCommand } from './commands/report';
import { scoreCommand } from './commands/score';
import { trainCommand } from './commands/train';
import { evalCommand } from './commands/eval';
import { workerCommand } from './commands/worker';
import { devCommand } from './commands/dev';
import { cancelCommand, pauseCommand, resumeCommand, runsCommand, statusCommand, watchCommand } from './commands/runs';
import { scheduleCommand } from './commands/schedule';
import { certsCommand } from './commands/certs';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes';
import { reportError } from './report-error';

export function buildProgram(): Command {
  const program = new Command('ippro')
    .description('structured pruning of neural networks with IPPRO (PROscore), local or on a cluster')
    .version(version())
    .showHelpAfterError('(run with --help for usage)');
  for (const command of [
    devCommand(),
    importCommand(),
    inspectCommand(),
    scoreCommand(),
    pruneCommand(),
    compareCommand(),
    reportCommand(),
    exportCommand(),
    statusCommand(),
    watchCommand(),
    cancelCommand(),
    pauseCommand(),
    resumeCommand(),
    runsCommand(),
    scheduleCommand(),
    trainCommand(),
    evalCommand(),
    workerCommand(),
    certsCommand(),
  ]) program.addCommand(command);
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  return program;
}

/** Runs the command line and returns the process exit code (see the README). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    return reportError(error, (line) => process.stderr.write(`${line}\n`));
  }
}

function version(): string {
  const manifest = require('../package.json') as { version: string };
  return manifest.version;
}
