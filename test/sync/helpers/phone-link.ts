import pino from 'pino';
import type { Db } from '../../../storage/db.ts';
import { syncConfigSchema } from '../../../sync/config.ts';
import { startSync } from '../../../sync/index.ts';
import type { PrepareFileHook } from '../../../sync/transfer/sender.ts';
import { startReceiver } from '../../../tools/receiver/receiver.ts';
import { PHONE, setUpBroker } from './brokers.ts';
import { recordingEffects } from './fixtures.ts';

/**
 * A device database's sync on an embedded broker, with the reference phone receiver writing into `phoneDir`:
 * what a test of "this file reaches the phone" starts from. `stop` takes the three down in reverse order.
 */
export async function linkToPhone(o: {
  db: Db;
  phoneDir: string;
  prepareTransfer?: PrepareFileHook;
}): Promise<{ stop: () => Promise<void> }> {
  const quiet = pino({ level: 'silent' });
  const broker = await setUpBroker('embedded');
  const sync = await startSync({
    db: o.db,
    config: syncConfigSchema.parse({ broker: broker.brokerConfig, reconnectMs: 200 }),
    deviceId: 'dev1',
    logger: quiet,
    status: () => ({ capture: 'running', models: {} }),
    effects: recordingEffects().effects,
    ...(o.prepareTransfer ? { prepareTransfer: o.prepareTransfer } : {}),
  });
  const receiver = startReceiver({
    url: broker.phoneUrl,
    deviceId: 'dev1',
    outDir: o.phoneDir,
    logger: quiet,
    reconnectMs: 200,
    ...PHONE,
  });
  return {
    stop: async () => {
      await receiver.stop();
      await sync.stop();
      await broker.stop();
    },
  };
}
