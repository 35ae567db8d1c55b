import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Link } from '../link.ts';
import { type OtaResultV1, otaResultV1 } from '../messages.ts';
import { TopicRouter } from '../router.ts';
import { PATTERNS, Topics } from '../topics.ts';
import { judgeAck } from '../transfer/ack.ts';
import { ChunkStream, chunkBucket, newStreamCounters, type StreamCounters } from '../transfer/stream.ts';
import { Wakeup } from '../wakeup.ts';
import { type ModelBundle, otaManifestOf, readModelBundle } from './bundle.ts';

export interface FlashOptions {
  readonly url: string;
  readonly deviceId: string;
  readonly topicPrefix?: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly protocolVersion?: 'auto' | 4 | 5;
  readonly chunkBytes?: number;
  readonly window?: number;
  readonly ackTimeoutMs?: number;
  readonly reconnectMs?: number;
  readonly maxBytesPerSecond?: number;
  /** Give up (reject) when the device has not answered in this long. */
  readonly timeoutMs?: number;
  readonly logger: Logger;
  /** A tap on every chunk sent (for tools that trace a transfer, and for tests). */
  readonly onChunk?: (index: number) => void;
}

export interface FlashReport {
  readonly otaId: string;
  readonly model: string;
  readonly bytes: number;
  readonly chunks: number;
  readonly result: OtaResultV1;
  readonly stats: StreamCounters & { readonly connects: number; readonly seconds: number };
}

/**
 * `glance flash --broker`: sends a model directory to a device over MQTT as one chunked, checksummed bundle
 * (sync/ota/bundle.ts) through the shared sending half of the transfer (transfer/stream.ts), then waits for the
 * device's result: installed and serving, or refused with the stage and reason. Every (re)connection sends the
 * manifest again and the device answers with what it holds, so a cut network, a restarted broker or a restarted
 * device resume from the last chunk the device acknowledged; flashing the same directory again resumes too.
 */
export async function flashOverMqtt(modelDir: string, o: FlashOptions): Promise<FlashReport> {
  const bundle = readModelBundle(modelDir);
  return flashBundle(bundle, o);
}

export async function flashBundle(bundle: ModelBundle, o: FlashOptions): Promise<FlashReport> {
  const started = performance.now();
  const chunkBytes = o.chunkBytes ?? 64 * 1024;
  const ackTimeoutMs = o.ackTimeoutMs ?? 3000;
  const manifest = otaManifestOf(bundle, chunkBytes);
  const { otaId, chunks } = manifest;
  const model = `${bundle.model.name}@${bundle.model.version}`;
  const topics = new Topics(o.topicPrefix ?? 'glance', o.deviceId);
  const log = o.logger.child({ part: 'flash', otaId, model });
  const link = new Link({
    url: o.url,
    clientId: `glance-flash-${randomBytes(6).toString('hex')}`,
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.ca === undefined ? {} : { ca: o.ca }),
    protocolVersion: o.protocolVersion ?? 'auto',
    clean: true,
    subscriptions: topics.flasherFilters(otaId),
    reconnectMs: o.reconnectMs ?? 500,
    logger: log,
  });
  const publish = (topic: string, payload: Buffer | string) =>
    link.publish(topic, payload, { qos: 1 }).catch((error: Error) => {
      log.debug({ topic, err: error.message }, 'publish failed; the ack protocol resends it');
    });
  const manifestJson = JSON.stringify(manifest);
  const counters = newStreamCounters();
  const stream = new ChunkStream(
    {
      ...{ size: bundle.data.length, chunkBytes, chunks, acked: 0, highestSent: 0 },
      ...{ window: o.window ?? 64, ackTimeoutMs, pollMs: 50 },
      bucket: chunkBucket(o.maxBytesPerSecond ?? 2 ** 31 - 1, chunkBytes),
      read: async (into, at, length, offset) => bundle.data.copy(into, at, offset, offset + length),
      publishManifest: () => void publish(topics.ota(otaId, 'manifest'), manifestJson),
      publishChunk: (index, frame) => {
        o.onChunk?.(index);
        void publish(topics.otaChunk(otaId, index), frame);
      },
      canSend: () => link.connected,
      onTimeout: (acked) => log.info({ acked }, 'no acknowledgement from the device: sending the manifest again'),
      handshake: true,
    },
    counters,
  );
  let result: OtaResultV1 | undefined;
  let connects = 0;
  const answered = new Wakeup();
  const router = new TopicRouter(topics.root)
    .on(PATTERNS.otaAck, (message) => {
      const decision = judgeAck({ chunks, sha256: manifest.sha256 }, message.payload);
      if (decision.kind === 'ignore') log.warn({ reason: decision.reason }, 'device ack ignored');
      else if (decision.kind === 'synced') stream.finish();
      else stream.progress(decision.next, decision.missing);
    })
    .on(PATTERNS.otaResult, (message) => {
      try {
        const parsed = otaResultV1.safeParse(JSON.parse(message.payload.toString('utf8')));
        if (parsed.success && parsed.data.otaId === otaId) {
          result = parsed.data;
          stream.finish();
          answered.wake();
          return;
        }
      } catch {
        // logged below
      }
      log.warn('device result not understood');
    });
  link.onMessage((message) => void router.dispatch(message));
  link.onConnect(() => {
    connects++;
    if (connects > 1) log.info({ acked: stream.acked }, 'reconnected: resuming from the device’s last ack');
    stream.goBack(); // the manifest again: the device answers with what it holds
  });
  const timeoutMs = o.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => Date.now() > deadline;
  link.start();
  try {
    await stream.run(() => result === undefined && !timedOut());
    // Every chunk is confirmed: the device is installing. Ask again now and then, in case the result was lost.
    while (result === undefined && !timedOut()) {
      await answered.wait(Math.min(ackTimeoutMs * 3, Math.max(1, deadline - Date.now())));
      if (result === undefined && link.connected) void publish(topics.ota(otaId, 'manifest'), manifestJson);
    }
  } finally {
    await link.close();
  }
  if (result === undefined) {
    throw new Error(
      `no answer from device ${o.deviceId} within ${Math.round(timeoutMs / 1000)} s (acked ${stream.acked}/${chunks} chunks)`,
    );
  }
  return {
    ...{ otaId, model, bytes: bundle.data.length, chunks, result },
    stats: { ...counters, connects, seconds: (performance.now() - started) / 1000 },
  };
}
