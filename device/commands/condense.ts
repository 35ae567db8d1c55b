import type { Command } from 'commander';
import { runPythonModule } from './train.ts';

/**
 * `glance condense …`: dataset condensation from the toolchain (distribution or gradient matching), so a wearer
 * can share a small synthetic set instead of raw recordings. The options are the Python module's own
 * (`glance condense --help` passes through), so the two never drift apart.
 */
export function registerCondenseCommand(program: Command): void {
  program
    .command('condense')
    .description('condense a dataset into a few synthetic samples per class (glance_train.condense)')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]', 'passed to python -m glance_train.condense (try --help)')
    .action(async (args: string[]) => {
      process.exitCode = await runPythonModule('glance_train.condense', args);
    });
}
