import { z } from 'zod';

/**
 * The `sync` section of the daemon's config: which broker, how fast the backlog drains, how files are chunked.
 * Strict like every section (an unknown key is a typo that must fail at start), every field described and bounded.
 */

const port = (what: string) => z.number().int().min(0).max(65_535).describe(`${what} port (0: any free port)`);

/** Reserved for the device's own connection to its embedded broker; a phone account may not take it. */
export const DEVICE_USERNAME = 'glance-device';

const userSchema = z.strictObject({
  username: z
    .string()
    .min(1)
    .max(64)
    .refine((u) => u !== DEVICE_USERNAME, `${DEVICE_USERNAME} is reserved for the device itself`)
    .describe('phone account name'),
  password: z.string().min(8).max(256).describe('account password (at least 8 characters)'),
  role: z
    .enum(['phone', 'flasher'])
    .default('phone')
    .describe(
      'phone: reads glance/<deviceId>/…, sends commands and acknowledgements; flasher: sends models over the air ' +
        '(models/ota/…) and reads nothing else',
    ),
});

const tlsSchema = z.strictObject({
  cert: z.string().min(1).describe('PEM certificate file'),
  key: z.string().min(1).describe('PEM private key file'),
});

const embeddedSchema = z.strictObject({
  type: z.literal('embedded'),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('interface to listen on; 0.0.0.0 lets a phone on the same Wi-Fi reach the glasses'),
  tcpPort: port('MQTT over TCP').default(1883),
  wsPort: port('MQTT over WebSocket (for a browser on the phone)').default(8083),
  users: z
    .array(userSchema)
    .max(16)
    .default([])
    .refine((us) => new Set(us.map((u) => u.username)).size === us.length, 'usernames must be unique')
    .describe('accounts: phones (read glance/<deviceId>/#, send commands and acknowledgements) and flashers'),
  tls: tlsSchema.optional().describe('serve TCP and WebSocket over TLS'),
});

const externalSchema = z.strictObject({
  type: z.literal('external'),
  url: z
    .string()
    .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'an mqtt://, mqtts://, ws:// or wss:// URL')
    .describe('broker URL, e.g. mqtt://broker.local:1883'),
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(1024).optional(),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional()
    .describe('MQTT client id (default glance-<deviceId>)'),
  ca: z.string().min(1).optional().describe('PEM file of a private CA for mqtts:// or wss://'),
  protocolVersion: z
    .union([z.literal('auto'), z.literal(4), z.literal(5)])
    .default('auto')
    .describe('MQTT 5 or 3.1.1 (4); auto tries 5 and falls back to 3.1.1'),
});

export const syncConfigSchema = z.strictObject({
  broker: z
    .discriminatedUnion('type', [embeddedSchema, externalSchema])
    .prefault({ type: 'embedded' })
    .describe('embedded (aedes, MQTT 3.1.1; the phone connects to the glasses) or an external broker'),
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'one topic level: letters, digits, _ and -')
    .default('glance')
    .describe('first topic level: <prefix>/<deviceId>/…'),
  reconnectMs: z.number().int().min(100).max(60_000).default(500).describe('wait between reconnection attempts'),
  outbox: z
    .strictObject({
      batch: z.number().int().min(1).max(10_000).default(256).describe('outbox rows read per query'),
      maxPerSecond: z
        .number()
        .min(1)
        .max(1_000_000)
        .default(2_000)
        .describe('token-bucket rate of the drain, so a backlog never starves the live pipeline'),
      window: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(256)
        .describe('records published but not yet receipted by the phone'),
      pollMs: z.number().int().min(10).max(60_000).default(100).describe('how often an idle drain looks for new rows'),
      receiptTimeoutMs: z
        .number()
        .int()
        .min(500)
        .max(3_600_000)
        .default(10_000)
        .describe('a record the phone has not receipted after this long is sent again'),
    })
    .prefault({}),
  chunkBytes: z
    .number()
    .int()
    .min(1024)
    .max(8 * 2 ** 20)
    .default(64 * 1024)
    .describe('bytes of file per snippet chunk (fixed per transfer when it starts)'),
  companion: z
    .strictObject({
      enabled: z.boolean().default(true).describe('serve the companion page (the memories timeline for the phone)'),
      port: port('companion page HTTP').default(8080),
      host: z.string().min(1).optional().describe('interface to serve on (default: the embedded broker host)'),
      wsUrl: z
        .string()
        .regex(/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL')
        .optional()
        .describe('the MQTT-over-WebSocket URL the page connects to, as the phone reaches it'),
    })
    .prefault({})
    .describe('the companion page served by the device'),
  transfer: z
    .strictObject({
      window: z
        .number()
        .int()
        .min(1)
        .max(1024)
        .default(64)
        .describe('chunks sent ahead of the phone’s acknowledgement'),
      ackTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(600_000)
        .default(3_000)
        .describe('no acknowledgement progress for this long: send the manifest again and go back to the last ack'),
      maxBytesPerSecond: z
        .number()
        .int()
        .min(1024)
        .max(2 ** 31)
        .default(64 * 2 ** 20)
        .describe('token-bucket rate of chunk bytes'),
    })
    .prefault({}),
  commands: z
    .strictObject({
      maxPayloadBytes: z
        .number()
        .int()
        .min(64)
        .max(2 ** 20)
        .default(16 * 1024)
        .describe('a larger command is refused unread'),
    })
    .prefault({}),
  ota: z
    .strictObject({
      enabled: z.boolean().default(true).describe('accept signed models over the air (models/ota/…)'),
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .max(2 ** 31)
        .default(64 * 2 ** 20)
        .describe('a larger model bundle is refused before anything is staged'),
      ackEvery: z.number().int().min(1).max(1024).default(4).describe('acknowledge after this many new chunks'),
    })
    .prefault({})
    .describe('models sent over MQTT by glance flash --broker, installed through the model registry'),
  statusIntervalMs: z
    .number()
    .int()
    .min(1_000)
    .max(3_600_000)
    .default(30_000)
    .describe('how often the retained status is refreshed'),
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;
export type SyncConfigInput = z.input<typeof syncConfigSchema>;
export type EmbeddedBrokerConfig = z.infer<typeof embeddedSchema>;
export type ExternalBrokerConfig = z.infer<typeof externalSchema>;
