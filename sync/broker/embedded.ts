import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { DEVICE_USERNAME, type EmbeddedBrokerConfig } from '../config.ts';
import type { Topics } from '../topics.ts';
import { AccessPolicy, type Role } from './acl.ts';
import type { BrokerEndpoint } from './endpoint.ts';

export interface EmbeddedBrokerOptions {
  readonly config: EmbeddedBrokerConfig;
  readonly topics: Topics;
  /** The device's own client id: no phone may take it (a second client with an id evicts the first). */
  readonly deviceClientId: string;
  readonly logger: Logger;
}

const BAD_CREDENTIALS: AuthErrorCode = 4;
const IDENTIFIER_REJECTED: AuthErrorCode = 2;

/**
 * The default broker: aedes inside the daemon, so the phone connects to the glasses, on TCP and on WebSocket (for
 * a browser on the phone), optionally over TLS. Phones log in with the configured accounts; the device's own
 * link logs in with a secret made at each start. Every publish and subscription passes the AccessPolicy.
 * aedes 1.x speaks MQTT 3.1.1 only, so the device's link falls back to 3.1.1 here.
 */
export class EmbeddedBroker {
  private readonly roles = new WeakMap<Client, Role>();
  private readonly secret = randomBytes(24).toString('base64url');
  private readonly sockets = new Set<Socket>();
  private readonly policy: AccessPolicy;
  private aedes: Aedes | undefined;
  private tcp: TcpServer | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  tcpPort = 0;
  wsPort = 0;

  private constructor(private readonly o: EmbeddedBrokerOptions) {
    this.policy = new AccessPolicy(o.topics);
  }

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const broker = new EmbeddedBroker(options);
    await broker.listen();
    return broker;
  }

  /** How the device's own link reaches this broker: loopback, with the per-start secret. */
  get deviceEndpoint(): BrokerEndpoint {
    const tls = this.o.config.tls !== undefined;
    return {
      url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.tcpPort}`,
      username: DEVICE_USERNAME,
      password: this.secret,
      clientId: this.o.deviceClientId,
      protocolVersion: 4,
      // Our own certificate on loopback: there is no one in between to authenticate against.
      insecureTls: tls,
    };
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await Promise.all([closeServer(this.tcp), closeServer(this.http)]);
  }

  private async listen(): Promise<void> {
    const { config, logger } = this.o;
    this.aedes = await Aedes.createBroker({
      id: `glance-${this.o.topics.deviceId}`,
      // Client ids are checked against the device's own below; MQTT 3.1.1's 23-character cap would refuse
      // `glance-<deviceId>` for a long device id.
      maxClientsIdLength: 128,
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        // A null client is the broker itself (a stored will): it was authorised when the client connected.
        const role = client === null ? undefined : this.roles.get(client);
        if (client === null || (role && this.policy.mayPublish(role, packet.topic, packet.retain))) {
          done(null);
          return;
        }
        logger.warn({ clientId: client.id, role: role?.kind, topic: packet.topic }, 'publish refused');
        done(new Error('not authorised'));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const role = this.roles.get(client);
        if (role && this.policy.maySubscribe(role, subscription.topic)) {
          done(null, subscription);
          return;
        }
        logger.warn({ clientId: client.id, role: role?.kind, filter: subscription.topic }, 'subscription refused');
        done(null, null);
      },
    });
    const tls = config.tls ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : undefined;
    const handle = (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.aedes?.handle(socket);
    };
    this.tcp = tls ? createTlsServer(tls, handle) : createTcpServer(handle);
    this.tcpPort = await listenOn(this.tcp, config.tcpPort, config.host);
    this.http = tls ? createHttpsServer(tls) : createHttpServer();
    this.http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (ws, request) => this.aedes?.handle(createWebSocketStream(ws), request));
    this.wsPort = await listenOn(this.http, config.wsPort, config.host);
    logger.info({ host: config.host, tcpPort: this.tcpPort, wsPort: this.wsPort, tls: !!tls }, 'embedded broker up');
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const given = password?.toString('utf8') ?? '';
    if (username === DEVICE_USERNAME && sameSecret(given, this.secret) && client.id === this.o.deviceClientId) {
      this.roles.set(client, { kind: 'device' });
      done(null, true);
      return;
    }
    const user = this.o.config.users.find((u) => u.username === username && sameSecret(given, u.password));
    if (user === undefined) {
      this.o.logger.warn({ clientId: client.id, username }, 'login refused: bad username or password');
      done(Object.assign(new Error('bad username or password'), { returnCode: BAD_CREDENTIALS }), false);
      return;
    }
    if (client.id === this.o.deviceClientId) {
      this.o.logger.warn({ clientId: client.id, username }, 'login refused: a phone may not use the device client id');
      done(Object.assign(new Error('client id reserved'), { returnCode: IDENTIFIER_REJECTED }), false);
      return;
    }
    this.roles.set(client, { kind: user.role, username: user.username });
    done(null, true);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function listenOn(server: TcpServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: TcpServer | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
