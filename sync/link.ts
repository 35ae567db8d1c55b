import { connect, ErrorWithReasonCode, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { InboundMessage } from './router.ts';

export interface LinkOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** 'auto' tries MQTT 5 and falls back to 3.1.1 when the broker refuses the protocol (aedes 1.x does). */
  readonly protocolVersion: 'auto' | 4 | 5;
  readonly clean: boolean;
  /** MQTT 5, clean: false: how long the broker keeps the session once the client is gone. */
  readonly sessionExpirySec?: number;
  readonly will?: { readonly topic: string; readonly payload: string; readonly retain: boolean };
  /** Subscribed at QoS 1 whenever a connection starts without a session to resume. */
  readonly subscriptions: readonly string[];
  readonly reconnectMs: number;
  readonly ca?: Buffer;
  /** For the device's own embedded broker on loopback with a self-signed certificate only. */
  readonly insecureTls?: boolean;
  readonly logger: Logger;
}

export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain?: boolean;
  /** Sent only on MQTT 5. */
  readonly userProperties?: Record<string, string>;
  readonly correlationData?: Buffer;
}

export interface ConnectInfo {
  readonly sessionPresent: boolean;
  readonly protocolVersion: 4 | 5;
}

/** MQTT 3.1.1 CONNACK code 1 and MQTT 5 reason 0x84: the broker does not speak the version we offered. */
const UNSUPPORTED_PROTOCOL = new Set([1, 0x84]);

/**
 * One MQTT connection that keeps itself up, with protocol detection, re-subscription when the broker kept no
 * session, and plain listener lists for the parts of sync that react to connects, closes and messages.
 *
 * Reconnection is ours, not mqtt.js's: each attempt is a fresh client, and a lost connection fails every publish
 * still awaiting its PUBACK. mqtt.js would otherwise re-send those on reconnection, ahead of (and out of order
 * with) the older messages the sender replays from its own store, which knows better what the phone lacks.
 */
export class Link {
  private client: MqttClient | undefined;
  private version: 4 | 5 | undefined;
  private maxInflight = 65_535;
  private closing = false;
  private corked = false;
  private nextVersion: 4 | 5 = 5;
  private retry: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<(error: Error) => void>();
  private readonly connectListeners: ((info: ConnectInfo) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private readonly messageListeners: ((message: InboundMessage) => void)[] = [];

  constructor(private readonly options: LinkOptions) {}

  start(): void {
    this.nextVersion = this.options.protocolVersion === 4 ? 4 : 5;
    this.open();
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get protocolVersion(): 4 | 5 | undefined {
    return this.version;
  }

  /** QoS 1 messages the broker accepts in flight (MQTT 5 Receive Maximum; unbounded on 3.1.1). */
  get receiveMaximum(): number {
    return this.maxInflight;
  }

  onConnect(listener: (info: ConnectInfo) => void): void {
    this.connectListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  onMessage(listener: (message: InboundMessage) => void): void {
    this.messageListeners.push(listener);
  }

  /**
   * Resolves when the broker has the message: on PUBACK for QoS 1, once written for QoS 0. Rejects at once when
   * not connected, and when the connection is lost before the PUBACK.
   */
  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    const client = this.client;
    // Nothing is queued for a connection that may never come: the callers resend by their own protocols.
    if (client === undefined || !client.connected) return Promise.reject(new Error('not connected'));
    const v5 = this.version === 5 && (options.userProperties !== undefined || options.correlationData !== undefined);
    this.coalesceWrites(client);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        this.inFlight.delete(fail);
        reject(error);
      };
      this.inFlight.add(fail);
      client.publish(
        topic,
        payload,
        {
          qos: options.qos,
          retain: options.retain ?? false,
          ...(v5
            ? { properties: { userProperties: options.userProperties, correlationData: options.correlationData } }
            : {}),
        },
        (error) => {
          if (!this.inFlight.delete(fail)) return; // already failed when the connection went
          if (error) reject(error);
          else resolve();
        },
      );
    });
  }

  /** Disconnects cleanly (the broker then does not publish the last will), waiting a little for in-flight acks. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    clearTimeout(this.retry);
    const client = this.client;
    if (client === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), timeoutMs);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.failInFlight();
  }

  private open(): void {
    const o = this.options;
    const version = this.nextVersion;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: version,
      clean: o.clean,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      // Subscriptions are made in onConnack, once per connection without a session, so never twice.
      resubscribe: false,
      ...(version === 5 && !o.clean && o.sessionExpirySec !== undefined
        ? { properties: { sessionExpiryInterval: o.sessionExpirySec } }
        : {}),
      ...(o.will
        ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: o.will.retain } }
        : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.insecureTls ? { rejectUnauthorized: false } : {}),
    };
    const client = connect(o.url, options);
    this.client = client;
    client.on('connect', (connack) => this.onConnack(client, version, connack.sessionPresent, connack.properties));
    client.on('message', (topic, payload, packet) => this.deliver(topic, payload, packet));
    client.on('error', (error) => {
      if (o.protocolVersion === 'auto' && version === 5 && isUnsupportedProtocol(error)) {
        o.logger.info({ url: o.url }, 'broker does not speak MQTT 5: using 3.1.1');
        this.nextVersion = 4;
        return;
      }
      o.logger.warn({ url: o.url, err: error.message }, 'MQTT connection error');
    });
    client.once('close', () => {
      client.end(true);
      if (this.client !== client || this.closing) return;
      this.failInFlight();
      for (const listener of this.closeListeners) listener();
      // A refused protocol is retried at once with 3.1.1; anything else after the reconnection delay.
      this.retry = setTimeout(() => this.open(), version !== this.nextVersion ? 0 : o.reconnectMs);
    });
  }

  private failInFlight(): void {
    const error = new Error('connection closed before PUBACK');
    for (const fail of [...this.inFlight]) fail(error);
  }

  private onConnack(
    client: MqttClient,
    version: 4 | 5,
    sessionPresent: boolean,
    properties: { receiveMaximum?: number } | undefined,
  ): void {
    this.version = version;
    this.maxInflight = properties?.receiveMaximum ?? 65_535;
    this.options.logger.info({ url: this.options.url, protocolVersion: version, sessionPresent }, 'MQTT connected');
    if (!sessionPresent && this.options.subscriptions.length > 0) {
      const subscriptions = [...this.options.subscriptions];
      // No Local (MQTT 5): a client never gets back what it published itself.
      client.subscribe(subscriptions, { qos: 1, ...(version === 5 ? { nl: true } : {}) }, (error, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos > 1).map((g) => g.topic);
        if (error || refused.length > 0) {
          this.options.logger.error({ err: error?.message, refused }, 'broker refused a subscription');
        }
      });
    }
    for (const listener of this.connectListeners) listener({ sessionPresent, protocolVersion: version });
  }

  /**
   * Holds the socket's writes until the end of this event-loop turn, so a burst of publishes (or the PUBACKs for a
   * burst of received messages) leaves in one writev instead of one system call per packet. `stream` is the
   * client's public socket.
   */
  private coalesceWrites(client: MqttClient): void {
    if (this.corked) return;
    const stream = client.stream;
    if (stream === undefined || stream.destroyed) return;
    this.corked = true;
    stream.cork();
    setImmediate(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  private deliver(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.client) this.coalesceWrites(this.client);
    const properties = packet.properties;
    const message: InboundMessage = {
      topic,
      payload,
      retain: packet.retain,
      ...(properties?.correlationData ? { correlationData: properties.correlationData } : {}),
      ...(properties?.userProperties ? { userProperties: properties.userProperties } : {}),
    };
    for (const listener of this.messageListeners) listener(message);
  }
}

function isUnsupportedProtocol(error: Error): boolean {
  return error instanceof ErrorWithReasonCode && UNSUPPORTED_PROTOCOL.has(error.code);
}
