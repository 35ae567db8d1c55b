#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBenchCommand } from './commands/bench-command.ts';
import { registerCalibrateCommand } from './commands/calibrate.ts';
import { registerCaptureCommand } from './commands/capture.ts';
import { registerCondenseCommand } from './commands/condense.ts';
import { registerDbCommand } from './commands/db.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerFlashCommand } from './commands/flash.ts';
import { registerLabelsCommand } from './commands/labels.ts';
import { registerModelsCommand } from './commands/models.ts';
import { registerRunCommand } from './commands/run-command.ts';
import { registerShareCommand } from './commands/share.ts';
import { registerKeygenCommand, registerSignCommand } from './commands/sign.ts';
import { registerSyncCommand } from './commands/sync.ts';
import { registerTrainCommand } from './commands/train.ts';
import { EXIT_BAD_INPUT, EXIT_OK, exitCodeFor, messageOf } from './errors.ts';

/**
 * `glance`: the one front door for the daemon, calibration, models, the toolchain and benchmarks. Commands load
 * their heavy modules (OpenCV, onnxruntime) inside their actions, so `glance capture pause` starts in a blink.
 */
function buildProgram(): Command {
  const program = new Command('glance')
    .description('Glance: an edge runtime for smart eyewear')
    .exitOverride()
    .showHelpAfterError();

  registerRunCommand(program);
  registerDbCommand(program);
  registerCaptureCommand(program);
  registerCalibrateCommand(program);
  registerModelsCommand(program);
  registerTrainCommand(program);
  registerCondenseCommand(program);
  registerShareCommand(program);
  registerExportCommand(program);
  registerSignCommand(program);
  registerKeygenCommand(program);
  registerFlashCommand(program);
  registerSyncCommand(program);
  registerLabelsCommand(program);
  registerBenchCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`glance: ${messageOf(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

await main(process.argv);
