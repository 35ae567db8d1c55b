/**
 * The device's sync in a process of its own, so a test can SIGKILL it mid-transfer and start it again on the
 * same database: `node --import tsx device-main.ts '<json DeviceArgs>'`. Prints `ready <json stats>` once started.
 */
import pino from 'pino';
import { openDatabase } from '../../../storage/db.ts';
import { syncConfigSchema } from '../../../sync/config.ts';
import { startSync } from '../../../sync/index.ts';
import { recordingEffects } from './fixtures.ts';

export interface DeviceArgs {
  readonly dbFile: string;
  readonly deviceId: string;
  readonly config: unknown;
}

const args = JSON.parse(process.argv[2] ?? '{}') as DeviceArgs;
const db = openDatabase(args.dbFile);
const logger = pino({ level: process.env.GLANCE_LOG_LEVEL ?? 'warn' }, pino.destination(2));
const sync = await startSync({
  db,
  config: syncConfigSchema.parse(args.config),
  deviceId: args.deviceId,
  logger,
  status: () => ({ capture: 'running', models: {} }),
  effects: recordingEffects().effects,
});
process.stdout.write(`ready ${JSON.stringify(sync.stats())}\n`);
process.once('SIGTERM', () => {
  void sync.stop().then(() => {
    db.close();
    process.exit(0);
  });
});
