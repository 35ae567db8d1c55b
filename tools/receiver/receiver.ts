import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Link } from '../../sync/link.ts';
import { eventV1, type PresenceV1 } from '../../sync/messages.ts';
import { type InboundMessage, TopicRouter } from '../../sync/router.ts';
import { PATTERNS, Topics } from '../../sync/topics.ts';
import { EventLog } from './event-log.ts';
import { type AssemblerStats, SnippetAssembler } from './snippet-assembler.ts';

export interface ReceiverOptions {
  readonly url: string;
  readonly deviceId: string;
  readonly outDir: string;
  readonly logger: Logger;
  readonly topicPrefix?: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion?: 'auto' | 4 | 5;
  readonly reconnectMs?: number;
  /** A tap on every snippet chunk that arrives (see SnippetAssembler). */
  readonly onChunk?: (transferId: string, index: number) => void;
}

export interface ReceiverStats {
  readonly connected: boolean;
  readonly protocolVersion: 4 | 5 | undefined;
  readonly events: number;
  readonly duplicates: number;
  readonly invalid: number;
  /** Events that carried the record id as an MQTT 5 user property too. */
  readonly withUserProperty: number;
  readonly receipted: number;
  readonly snippets: AssemblerStats;
}

export interface Receiver {
  stop(): Promise<void>;
  stats(): ReceiverStats;
}

/**
 * The phone's side of sync, runnable on a laptop: keeps a persistent session, announces itself (which is what
 * lets the device send), stores each event record once (events.jsonl) and receipts it, reassembles snippets into
 * `snippets/` (snippets.jsonl lists them), and keeps the device's status in status.json.
 */
export function startReceiver(o: ReceiverOptions): Receiver {
  mkdirSync(o.outDir, { recursive: true });
  const topics = new Topics(o.topicPrefix ?? 'glance', o.deviceId);
  const clientId = persistentClientId(o.outDir);
  const log = o.logger.child({ part: 'receiver' });
  const events = new EventLog(join(o.outDir, 'events.jsonl'));
  const counters = { duplicates: 0, invalid: 0, withUserProperty: 0, receipted: 0 };
  let pendingReceipts: number[] = [];
  const presence = (online: boolean) => JSON.stringify({ v: 1, online, clientId } satisfies PresenceV1);
  const link = new Link({
    url: o.url,
    clientId,
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
    protocolVersion: o.protocolVersion ?? 'auto',
    clean: false, // the broker keeps what arrives while the phone is away
    sessionExpirySec: 7 * 24 * 3600,
    will: { topic: topics.presence, payload: presence(false), retain: true },
    subscriptions: topics.phoneFilters,
    reconnectMs: o.reconnectMs ?? 500,
    logger: log,
  });
  const publish = (topic: string, payload: string, retain = false) =>
    link
      .publish(topic, payload, { qos: 1, retain })
      .catch((e: Error) => log.debug({ topic, err: e.message }, 'publish failed'));
  const assembler = new SnippetAssembler({
    outDir: o.outDir,
    logger: log,
    sendAck: (transferId, ack) => void publish(topics.snippetAck(transferId), JSON.stringify(ack)),
    ...(o.onChunk ? { onChunk: o.onChunk } : {}),
  });

  const onEvent = (message: InboundMessage) => {
    let parsed: ReturnType<typeof eventV1.safeParse>;
    try {
      parsed = eventV1.safeParse(JSON.parse(message.payload.toString('utf8')));
    } catch {
      counters.invalid++;
      return;
    }
    if (!parsed.success) {
      counters.invalid++;
      return;
    }
    if (message.userProperties?.recordId === parsed.data.recordId) counters.withUserProperty++;
    if (!events.append(parsed.data)) counters.duplicates++;
    // Duplicates are receipted too: the device sent it again because it has not seen a receipt yet.
    pendingReceipts.push(parsed.data.seq);
    if (pendingReceipts.length >= 1000) sendReceipts();
  };
  // One durability round at a time: records arriving during an fdatasync wait for the next round, which batches
  // them by the disk's own latency.
  let round: Promise<void> | undefined;
  const sendReceipts = () => {
    if (round !== undefined || pendingReceipts.length === 0 || !link.connected) return;
    const seqs = pendingReceipts;
    pendingReceipts = [];
    round = events
      .sync() // a receipt promises the record is stored
      .then(() => {
        for (let i = 0; i < seqs.length; i += 1000) {
          void publish(topics.receipts, JSON.stringify({ v: 1, seqs: seqs.slice(i, i + 1000) }));
        }
        counters.receipted += seqs.length;
      })
      .catch((error: Error) => {
        log.error({ err: error.message }, 'cannot store events');
        pendingReceipts.push(...seqs);
      })
      .finally(() => {
        round = undefined;
      });
  };

  const router = new TopicRouter(topics.root)
    .on(PATTERNS.event, onEvent)
    .on(PATTERNS.manifest, (message) => assembler.manifest(message.payload))
    .on(PATTERNS.chunk, (message, p) => assembler.chunk(p.transferId, p.index, message.payload))
    .on(PATTERNS.status, (message) => writeFileSync(join(o.outDir, 'status.json'), message.payload));
  link.onMessage((message) => {
    if (!router.dispatch(message)) log.debug({ topic: message.topic }, 'not for the receiver');
  });
  // Announcing on every connection is what tells the device to send again whatever we have not receipted.
  link.onConnect(() => void publish(topics.presence, presence(true), true));
  const timer = setInterval(() => {
    sendReceipts();
    assembler.flush();
  }, 20);
  link.start();

  return {
    async stop() {
      clearInterval(timer);
      await round;
      sendReceipts();
      await round;
      if (link.connected) await publish(topics.presence, presence(false), true);
      await link.close();
      events.close();
      await assembler.close();
    },
    stats: () => ({
      connected: link.connected,
      protocolVersion: link.protocolVersion,
      events: events.size,
      ...counters,
      snippets: assembler.stats(),
    }),
  };
}

/** The same client id across restarts, so the broker's session (and what it queued) is resumed. */
function persistentClientId(dir: string): string {
  const file = join(dir, 'client-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = `phone-${randomBytes(6).toString('hex')}`;
  writeFileSync(file, id);
  return id;
}
