import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { defaultDbFile, loadConfig, parseConfig } from '../config.ts';
import { BadInputError } from '../errors.ts';

/** `glance run`: the daemon (DESIGN.md, "Command line"). */
export function registerRunCommand(program: Command): void {
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
    .option('--no-sync', 'run without the phone link (no broker, no MQTT)')
    .option('--sync', 'run with the phone link as configured (the default)')
    .action(async (opts: RunFlags) => {
      const config = loadConfig(opts.config);
      const envLevel = process.env.GLANCE_LOG_LEVEL;
      if (envLevel) config.log.level = parseConfig({ log: { level: envLevel } }, 'GLANCE_LOG_LEVEL').log.level;
      if (opts.replay) config.source = { type: 'replay', session: opts.replay, pace: opts.pace ?? 'fast' };
      else if (opts.pace && config.source.type === 'replay') config.source.pace = opts.pace;
      if (opts.deviceId) config.device.id = opts.deviceId;
      if (opts.dataDir) config.device.dataDir = opts.dataDir;
      if (opts.broker) {
        if (!/^(mqtts?|wss?):\/\/\S+$/.test(opts.broker))
          throw new BadInputError(`--broker: not an MQTT URL: ${opts.broker}`);
        config.sync = parseConfig({ sync: { broker: { type: 'external', url: opts.broker } } }, '--broker').sync;
      }
      if (opts.sync === false) config.sync = false;
      const dbFile = opts.db ? resolve(opts.db) : defaultDbFile(config);
      const { runCommand } = await import('./run.ts');
      process.exitCode = await runCommand({ config, dbFile, once: opts.once ?? false, summaryFile: opts.summary });
    });
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
  sync?: boolean;
}

function parsePace(value: string): 'realtime' | 'fast' {
  if (value !== 'realtime' && value !== 'fast') throw new InvalidArgumentError('expected realtime or fast');
  return value;
}
