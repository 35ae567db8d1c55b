import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { freePort, LocalMosquitto } from '../../../sync/bench/mosquitto.ts';

export type BrokerKind = 'embedded' | 'mosquitto';

export const PHONE = { username: 'phone', password: 'phone-secret-1' } as const;
export const FLASHER = { username: 'flasher', password: 'flasher-secret-1' } as const;
const DEVICE = { username: 'device', password: 'device-secret-1' } as const;

/**
 * One broker for the contract suite: the device's embedded aedes (on fixed free ports, so a restarted device
 * listens where the phone reconnects) or a mosquitto the test starts, with password authentication either way.
 */
export interface BrokerSetup {
  readonly kind: BrokerKind;
  /** The device config's `sync.broker` section. */
  readonly brokerConfig: Record<string, unknown>;
  /** Where a phone connects. */
  readonly phoneUrl: string;
  /** The broker's TCP port (what a proxy in front of it forwards to). */
  readonly port: number;
  readonly wsPort?: number;
  /** mosquitto only: kill it and start it again on the same port. */
  readonly mosquitto?: LocalMosquitto;
  stop(): Promise<void>;
}

export async function setUpBroker(kind: BrokerKind): Promise<BrokerSetup> {
  if (kind === 'mosquitto') {
    const mosquitto = await LocalMosquitto.start({ users: [DEVICE, PHONE, FLASHER] });
    return {
      kind,
      brokerConfig: { type: 'external', url: mosquitto.url, ...DEVICE },
      phoneUrl: mosquitto.url,
      port: mosquitto.port,
      mosquitto,
      stop: () => mosquitto.stop(),
    };
  }
  const tcpPort = await freePort();
  const wsPort = await freePort();
  return {
    kind,
    brokerConfig: { type: 'embedded', tcpPort, wsPort, users: [PHONE, { ...FLASHER, role: 'flasher' }] },
    phoneUrl: `mqtt://127.0.0.1:${tcpPort}`,
    port: tcpPort,
    wsPort,
    stop: async () => undefined,
  };
}

/** A bare MQTT client (a phone app, a spy or an intruder); resolves once connected, rejects if refused. */
export function mqttClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
  return new Promise((resolve, reject) => {
    const refused = (error: Error) => {
      client.end(true);
      reject(error);
    };
    const closed = () => refused(new Error('connection closed before CONNACK'));
    client.once('error', refused);
    client.once('close', closed);
    client.once('connect', () => {
      client.off('error', refused);
      client.off('close', closed);
      client.on('error', () => undefined); // later errors (a broker restart) are the reconnect logic's business
      resolve(client);
    });
  });
}

export function closeClient(client: MqttClient | undefined): Promise<void> {
  return new Promise((resolve) => (client ? client.end(true, {}, () => resolve()) : resolve()));
}

/** The QoS granted per filter (128: refused); mqtt.js rejects the whole call when any one is refused. */
export function grantedQos(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos: 1 }, (error, _granted, packet) => {
      if (packet) resolve(packet.granted.map(Number));
      else reject(error ?? new Error('no SUBACK'));
    });
  });
}
