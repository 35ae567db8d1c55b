/**
 * The model commands on their own, as `glance` will run them once device/cli.ts registers them:
 * `tsx test/models/cli-entry.ts models list …`. Lets the suites drive the real commands in a subprocess.
 */
import { Command, CommanderError } from 'commander';
import { registerExportCommand } from '../../device/commands/export.ts';
import { registerFlashCommand } from '../../device/commands/flash.ts';
import { registerModelsCommand } from '../../device/commands/models.ts';
import { registerKeygenCommand, registerSignCommand } from '../../device/commands/sign.ts';
import { registerTrainCommand } from '../../device/commands/train.ts';
import { EXIT_BAD_INPUT, EXIT_OK, exitCodeFor, messageOf } from '../../device/errors.ts';

const program = new Command('glance').exitOverride().showHelpAfterError();
registerModelsCommand(program);
registerTrainCommand(program);
registerExportCommand(program);
registerSignCommand(program);
registerKeygenCommand(program);
registerFlashCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
  else {
    process.stderr.write(`glance: ${messageOf(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
