import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { Outbox } from '../storage/outbox.ts';
import { TransferRepository } from '../storage/transfers.ts';
import { openBroker } from './broker/open.ts';
import type { CommandEffects } from './commands/command.ts';
import { CommandDispatcher, type CommandStats } from './commands/dispatcher.ts';
import { COMMANDS } from './commands/table.ts';
import type { SyncConfig } from './config.ts';
import { Link } from './link.ts';
import { type OtaInstaller, OtaReceiver, type OtaStats } from './ota/receiver.ts';
import { type DrainStats, OutboxDrain } from './outbox-drain.ts';
import { PhonePresence } from './presence.ts';
import { TopicRouter } from './router.ts';
import { OFFLINE_STATUS, type StatusProvider, StatusPublisher } from './status.ts';
import { PATTERNS, Topics } from './topics.ts';
import {
  type PrepareFileHook,
  TransferSender,
  type TransferStats,
  type TransferSyncedHook,
} from './transfer/sender.ts';

export type { CommandEffects, LabelAnswer } from './commands/command.ts';
export { InvalidRequestError } from './commands/command.ts';
export { type SyncConfig, syncConfigSchema } from './config.ts';
export type { DeviceStatus } from './messages.ts';
export type { OtaInstaller, OtaOutcome } from './ota/receiver.ts';
export type { StatusProvider } from './status.ts';
export type { TransferSyncedHook } from './transfer/sender.ts';

export interface SyncDeps {
  readonly db: Db;
  readonly config: SyncConfig;
  /** One MQTT topic level: letters, digits, `_` and `-`. */
  readonly deviceId: string;
  readonly logger: Logger;
  readonly status: StatusProvider;
  readonly effects: CommandEffects;
  /** A file the phone now holds in full (e.g. mark the snippet synced, which makes it evictable). */
  readonly onTransferSynced?: TransferSyncedHook;
  /**
   * Models over the air: where incoming bundles are staged (never the live models directory) and how a staged
   * model is installed (through the registry). Without it, OTA manifests are answered with a refusal.
   */
  readonly ota?: { readonly dir: string; readonly install: OtaInstaller };
  /** May replace a file before it is sent (snippets: faces of people not enrolled blurred). */
  readonly prepareTransfer?: PrepareFileHook;
}

export interface SyncStats {
  readonly connected: boolean;
  readonly protocolVersion: 4 | 5 | undefined;
  readonly phoneOnline: boolean;
  /** Ports of the embedded broker (absent with an external one). */
  readonly broker?: { readonly tcp: number; readonly ws: number };
  readonly outbox: DrainStats & { readonly pending: number };
  readonly transfers: TransferStats & { readonly open: number; readonly synced: number; readonly failed: number };
  readonly commands: CommandStats;
  readonly ota: OtaStats;
}

export interface SyncHandle {
  stop(): Promise<void>;
  stats(): SyncStats;
}

/**
 * Starts the phone sync: the broker (embedded or external), the device's link with its retained status and last
 * will, the outbox drain, the snippet sender and the command handlers. `stop()` undoes it in reverse.
 */
export async function startSync(deps: SyncDeps): Promise<SyncHandle> {
  const { db, config, deviceId, logger } = deps;
  const topics = new Topics(config.topicPrefix, deviceId);
  const broker = await openBroker(config.broker, topics, logger);
  const log = logger.child({ part: 'sync' });
  const link = new Link({
    ...broker.endpoint,
    clean: true, // commands are live: a pause queued for hours must not run when the device comes back
    will: { topic: topics.status, payload: OFFLINE_STATUS, retain: true },
    subscriptions: topics.deviceFilters,
    reconnectMs: config.reconnectMs,
    logger: log,
  });
  const presence = new PhonePresence(log);
  const canSend = () => link.connected && presence.isOnline;
  const drain = new OutboxDrain({ db, link, topics, config: config.outbox, logger: log, canSend });
  const sender = new TransferSender({
    ...{ db, link, topics, chunkBytes: config.chunkBytes, config: config.transfer },
    ...{ pollMs: config.outbox.pollMs, logger: log, canSend },
    ...(deps.onTransferSynced ? { onSynced: deps.onTransferSynced } : {}),
    ...(deps.prepareTransfer ? { prepareFile: deps.prepareTransfer } : {}),
  });
  const outbox = new Outbox(db);
  const transfers = new TransferRepository(db);
  const openTransfers = () => {
    const counts = transfers.counts();
    return counts.pending + counts.sending;
  };
  const status = new StatusPublisher({
    ...{ link, topics, provider: deps.status, intervalMs: config.statusIntervalMs, logger: log },
    syncCounts: () => ({ pendingRecords: outbox.pendingCount(), openTransfers: openTransfers() }),
  });
  const commands = new CommandDispatcher({
    ...{ commands: COMMANDS, effects: deps.effects, link, topics, logger: log },
    maxPayloadBytes: config.commands.maxPayloadBytes,
    afterCommand: () => void status.publishNow(),
  });
  const ota = new OtaReceiver({
    ...{ db, link, topics, config: config.ota, logger: log },
    dir: deps.ota?.dir,
    install: deps.ota?.install,
  });
  const router = new TopicRouter(topics.root)
    .on(PATTERNS.command, (message, p) => commands.handle(p.name, message))
    .on(PATTERNS.snippetAck, (message, p) => sender.handleAck(p.transferId, message))
    .on(PATTERNS.presence, (message) => presence.handle(message))
    .on(PATTERNS.receipts, (message) => drain.handleReceipts(message))
    .on(PATTERNS.otaManifest, (message, p) => ota.handleManifest(p.otaId, message))
    .on(PATTERNS.otaChunk, (message, p) => ota.handleChunk(p.otaId, p.index, message));
  link.onMessage((message) => {
    if (!router.dispatch(message)) log.debug({ topic: message.topic }, 'message with no handler');
  });
  link.onConnect(() => void status.publishNow());
  link.onClose(() => presence.linkLost());
  presence.onOnline(() => {
    drain.replay();
    sender.phoneOnline();
  });
  drain.start();
  sender.start();
  ota.start();
  status.start();
  link.start();

  return {
    async stop() {
      await drain.stop();
      await sender.stop();
      await ota.stop();
      await commands.idle();
      await status.stop();
      await link.close();
      drain.close();
      await broker.stop();
    },
    stats() {
      const counts = transfers.counts();
      return {
        connected: link.connected,
        protocolVersion: link.protocolVersion,
        phoneOnline: presence.isOnline,
        ...(broker.ports ? { broker: broker.ports } : {}),
        outbox: { ...drain.stats(), pending: outbox.pendingCount() },
        transfers: {
          ...sender.stats(),
          open: counts.pending + counts.sending,
          synced: counts.synced,
          failed: counts.failed,
        },
        commands: commands.stats(),
        ota: ota.stats(),
      };
    },
  };
}
