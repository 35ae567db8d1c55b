import { readFileSync } from 'node:fs';
import type { ExternalBrokerConfig } from '../config.ts';
import type { BrokerHandle } from './endpoint.ts';

/**
 * An external broker (mosquitto, EMQX, any MQTT 5 or 3.1.1 broker): nothing to run, only where to connect. Its
 * access control is the broker's own configuration (see sync/README.md for the rules to give the phone).
 */
export function externalBroker(config: ExternalBrokerConfig, deviceId: string): BrokerHandle {
  return {
    endpoint: {
      url: config.url,
      clientId: config.clientId ?? `glance-${deviceId}`,
      protocolVersion: config.protocolVersion,
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.ca === undefined ? {} : { ca: readFileSync(config.ca) }),
    },
    stop: async () => undefined,
  };
}
