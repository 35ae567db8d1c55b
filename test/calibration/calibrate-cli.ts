/**
 * A stand-in for `glance` with only the calibrate command, so its tests run it as a user would (argument parsing,
 * exit codes, messages) before the lead wires it into device/cli.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerCalibrateCommand } from '../../device/commands/calibrate.ts';
import { EXIT_BAD_INPUT, EXIT_OK, exitCodeFor, messageOf } from '../../device/errors.ts';

const program = new Command('glance').exitOverride();
registerCalibrateCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
  else {
    process.stderr.write(`glance: ${messageOf(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
