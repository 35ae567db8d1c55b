#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { benchCommand } from './commands/bench.ts';
import { registerCaptureCommand } from './commands/capture.ts';
import { registerDbCommand } from './commands/db.ts';
import { runCommand } from './commands/run.ts';
import { loadConfig, parseConfig } from './config.ts';
import { defaultDbFile } from './daemon.ts';
import { BadInputError, EXIT_BAD_INPUT, EXIT_OK, exitCodeFor, messageOf } from './errors.ts';

/** `glance`: the one front door for the daemon, calibration, models, the toolchain and benchmarks. */
function buildProgram(): Command {
  const program = new Command('glance')
    .description('Glance: an edge runtime for smart eyewear')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run')
    .description('run the daemon on live cameras or a recorded session')
    .option('--config <file>', 'YAML config file')
    .option('--replay <dir>', 'replay a recorded session directory instead of live cameras')
    .option('--pace <pace>', 'replay pace: realtime or fast', parsePace)
    .option('--db <file>', 'SQLite database file (default <data-dir>/glance.db)')
    .option('--once', 'process the session to its end, then exit')
    .option('--summary <file>', 'write a JSON summary of the run here')
    .option('--broker <url>', 'external MQTT broker, e.g. mqtt://127.0.0.1:1883')
    .option('--device-id <id>', 'device id (MQTT topic prefix glance/<id>/)')
    .option('--data-dir <dir>', 'where the database and snippets live')
    .action(async (opts: RunFlags) => {
      const config = loadConfig(opts.config);
      const envLevel = process.env.GLANCE_LOG_LEVEL;
      if (envLevel) config.log.level = parseConfig({ log: { level: envLevel } }, 'GLANCE_LOG_LEVEL').log.level;
      if (opts.replay) config.source = { type: 'replay', session: opts.replay, pace: opts.pace ?? 'fast' };
      else if (opts.pace && config.source.type === 'replay') config.source.pace = opts.pace;
      if (opts.deviceId) config.device.id = opts.deviceId;
      if (opts.dataDir) config.device.dataDir = opts.dataDir;
      if (opts.broker) throw new BadInputError('--broker: MQTT sync is not part of this build yet');
      const dbFile = opts.db ? resolve(opts.db) : defaultDbFile(config);
      process.exitCode = await runCommand({ config, dbFile, once: opts.once ?? false, summaryFile: opts.summary });
    });
  registerDbCommand(program);
  registerCaptureCommand(program);
  program
    .command('bench')
    .description('measure throughput, latency and memory; print a table and optionally write JSON')
    .option('--only <names>', 'comma-separated groups to run (foundation)')
    .option('--json <file>', 'write the report as JSON')
    .action(async (opts: { only?: string; json?: string }) => {
      process.exitCode = await benchCommand({ only: opts.only?.split(',').map((s) => s.trim()), json: opts.json });
    });
  return program;
}

interface RunFlags {
  config?: string;
  replay?: string;
  pace?: 'realtime' | 'fast';
  db?: string;
  once?: boolean;
  summary?: string;
  broker?: string;
  deviceId?: string;
  dataDir?: string;
}

function parsePace(value: string): 'realtime' | 'fast' {
  if (value !== 'realtime' && value !== 'fast') throw new InvalidArgumentError('expected realtime or fast');
  return value;
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
