import type { Logger } from 'pino';
import type { SyncConfig } from '../config.ts';
import type { Topics } from '../topics.ts';
import { EmbeddedBroker } from './embedded.ts';
import type { BrokerHandle } from './endpoint.ts';
import { externalBroker } from './external.ts';

/** Chooses the broker back-end by the config's `type` key. */
export async function openBroker(config: SyncConfig['broker'], topics: Topics, logger: Logger): Promise<BrokerHandle> {
  if (config.type === 'external') return externalBroker(config, topics.deviceId);
  const broker = await EmbeddedBroker.start({
    config,
    topics,
    deviceClientId: `glance-${topics.deviceId}`,
    logger: logger.child({ part: 'broker' }),
  });
  return {
    endpoint: broker.deviceEndpoint,
    ports: { tcp: broker.tcpPort, ws: broker.wsPort },
    stop: () => broker.stop(),
  };
}
