import { join, resolve } from 'node:path';
import { readSessionIntrinsics, type SceneIntrinsics } from '../calibration/index.ts';
import type { ModelRegistry } from '../models/registry.ts';
import { LabelService } from '../pipelines/labels/label-service.ts';
import { manifestLabels } from '../pipelines/labels/manifest-labels.ts';
import { PersonalHeadUpdates } from '../pipelines/labels/personal-head-updates.ts';
import { type CandidateSource, emotionSource, snippetSource } from '../pipelines/labels/sources.ts';
import { CaptureState } from '../pipelines/snippets/capture-state.ts';
import type { BatchWriter } from '../storage/batch-writer.ts';
import { CameraIntrinsicsRepository } from '../storage/camera-intrinsics.ts';
import type { Db } from '../storage/db.ts';
import { openDatabase } from '../storage/db.ts';
import { DeviceState } from '../storage/device-state.ts';
import { frameWriter } from '../storage/frames.ts';
import { ModelRepository } from '../storage/models.ts';
import { PersonalHeadRepository } from '../storage/personal-heads.ts';
import { SessionRepository } from '../storage/sessions.ts';
import { SnippetRepository } from '../storage/snippets.ts';
import { type TelemetryRow, telemetryWriter } from '../storage/telemetry.ts';
import { startCompanionServer } from '../sync/companion/server.ts';
import { type SyncHandle, startSync } from '../sync/index.ts';
import { commandEffects, otaInstaller } from './command-effects.ts';
import type { Config } from './config.ts';
import { deviceStatusProvider } from './device-status.ts';
import { ErrorLog } from './error-log.ts';
import type { Frame, StreamName } from './frames.ts';
import { type Inputs, openInputs } from './inputs.ts';
import type { Logger } from './logger.ts';
import { MetricsRegistry } from './metrics.ts';
import { FramePairer } from './pairing.ts';
import { FramePipeline } from './pipeline.ts';
import { snippetBlurHook } from './privacy.ts';
import { telemetryRowOf } from './serial/telemetry-sink.ts';
import { buildStages } from './stages.ts';
import type { RunSummary } from './summary.ts';

export interface DaemonOptions {
  readonly config: Config;
  readonly dbFile: string;
  readonly logger: Logger;
}

interface Step {
  readonly name: string;
  readonly stop: () => void | Promise<void>;
}

// Live data arrives at a trickle between batches; this bounds how long a committed-looking row can wait.
const LIVE_FLUSH_MS = 1000;

/**
 * The composition root: `start()` is a list of named steps, each of which registers how to undo itself, and
 * `stop()` undoes them in reverse. Everything a stage needs is built here and passed in.
 */
export class Daemon {
  private readonly steps: Step[] = [];
  private readonly metrics = new MetricsRegistry();
  private readonly errors = new ErrorLog();
  private db: Db | undefined;
  private inputs: Inputs | undefined;
  private pipeline: FramePipeline | undefined;
  private telemetry: BatchWriter<TelemetryRow> | undefined;
  private sync: SyncHandle | undefined;
  /** Opened on first use (a stage that runs a model, or a model command): onnxruntime costs memory. */
  private models: Promise<ModelRegistry> | undefined;
  private openModels(): Promise<ModelRegistry> {
    this.models ??= (async () => {
      const { ModelRegistry } = await import('../models/registry.ts');
      const { readTrustedKey } = await import('../models/signing.ts');
      const { config, logger } = this.options;
      const registry = new ModelRegistry({
        config: config.models,
        trustedKeys: config.models.trustedKeys.map((k) => readTrustedKey(k)),
        store: new ModelRepository(this.db as Db),
        log: logger,
      });
      await registry.start([]);
      this.registry = registry;
      return registry;
    })();
    return this.models;
  }
  private registry: ModelRegistry | undefined;
  private syncStats: RunSummary['sync'];
  private modelsInUse: string[] = [];
  private stageStats: Record<string, Record<string, unknown>> = {};
  private recalibrate: (() => void) | undefined;
  private peakRss = 0;
  private sessionId = '';
  private stopRequested: 'signal' | undefined;
  private startedAt = 0;

  constructor(private readonly options: DaemonOptions) {}

  async start(): Promise<void> {
    const { config, logger } = this.options;
    // Open the input before the database: bad input must fail before anything is written.
    this.step('inputs', () => {
      this.inputs = openInputs(config, logger, (msg, tNs) => {
        if (this.sessionId) this.telemetry?.add(telemetryRowOf(this.sessionId, msg, tNs));
      });
      return () => this.inputs?.feed.close();
    });
    this.step('storage', () => {
      this.db = openDatabase(this.options.dbFile);
      return () => undefined; // closed by finish(), after the summary has counted the rows
    });
    this.step('models', () => async () => {
      await (await this.models)?.close();
    });
    this.step('session', () => {
      const sessions = new SessionRepository(this.db as Db);
      const recovered = sessions.recoverInterrupted();
      if (recovered > 0) logger.warn({ recovered }, 'sessions left running by a killed process marked interrupted');
      const wallMs = Date.now();
      this.sessionId = `${this.inputs?.sessionName}@${wallMs}`;
      sessions.start({
        id: this.sessionId,
        device: config.device.id,
        source: this.inputs?.feed.label ?? '',
        startedWallMs: wallMs,
        startedTNs: process.hrtime.bigint(),
      });
      return () => sessions.end(this.sessionId, 'completed');
    });
    await this.asyncStep('pipeline', async () => {
      const eyes = this.feed.streams.filter((s): s is 'eye0' | 'eye1' => s !== 'scene');
      const pairer = new FramePairer(eyes, config.pipeline.pairingMaxSkewMs);
      const rows = frameWriter(this.db as Db, config.storage.batchSize);
      const { stages } = await buildStages({
        db: this.db as Db,
        sessionId: this.sessionId,
        config,
        logger,
        models: () => this.openModels(),
        modelsInUse: () => this.registry?.inUse() ?? [],
        capture: this.capture(),
        ...this.sceneIntrinsics(),
      });
      this.pipeline = new FramePipeline(this.sessionId, pairer, rows, this.metrics, stages);
      const gaze = stages.find((st): st is typeof st & { recalibrate(): void } => 'recalibrate' in st);
      this.recalibrate = gaze ? () => gaze.recalibrate() : undefined;
      return () => this.pipeline?.finish();
    });
    this.step('telemetry', () => {
      const telemetry = telemetryWriter(this.db as Db, config.storage.batchSize);
      this.telemetry = telemetry;
      const timer = config.source.type === 'live' ? setInterval(() => telemetry.flush(), LIVE_FLUSH_MS) : undefined;
      this.inputs?.serialLink?.start();
      return async () => {
        clearInterval(timer);
        await this.inputs?.serialLink?.close();
        telemetry.flush();
      };
    });
    this.step('recording', () => () => this.inputs?.recording?.stop());
    await this.asyncStep('sync', async () => {
      if (config.sync === false) return () => undefined;
      const db = this.db as Db;
      const capture = this.capture();
      const snippets = new SnippetRepository(db, config.device.dataDir);
      const labels = config.labels.enabled ? await this.labelService(db) : undefined;
      const sync = await startSync({
        db,
        config: config.sync,
        deviceId: config.device.id,
        logger,
        status: deviceStatusProvider({
          db,
          dbFile: this.options.dbFile,
          dataDir: config.device.dataDir,
          capture,
          models: () => Object.fromEntries((this.registry?.inUse() ?? []).map((m) => m.split('@') as [string, string])),
        }),
        effects: commandEffects({
          capture,
          models: () => this.openModels(),
          recalibrate: this.recalibrate,
          sessionId: this.sessionId,
          labels,
          db,
          dataDir: config.device.dataDir,
          emotionModel: config.emotion.model,
        }),
        ...optional(
          'prepareTransfer',
          snippetBlurHook({
            config: config.faces,
            db,
            dataDir: config.device.dataDir,
            models: () => this.openModels(),
            logger,
          }),
        ),
        onTransferSynced: (t) => {
          if (t.kind === 'snippet') snippets.markSynced(t.recordId);
        },
        // Bundles are staged under the data directory, never in the live models directory.
        ota: { dir: join(config.device.dataDir, 'ota'), install: otaInstaller(() => this.openModels()) },
      });
      this.sync = sync;
      const broker = sync.stats().broker;
      if (broker) logger.info({ tcpPort: broker.tcp, wsPort: broker.ws }, 'embedded MQTT broker listening');
      const page = config.sync.companion;
      const brokerConfig = config.sync.broker;
      const host = page.host ?? (brokerConfig.type === 'embedded' ? brokerConfig.host : '127.0.0.1');
      const external =
        brokerConfig.type === 'external' && /^wss?:/.test(brokerConfig.url) ? brokerConfig.url : undefined;
      const companion = page.enabled
        ? await startCompanionServer({
            port: page.port,
            host,
            dataDir: config.device.dataDir,
            db,
            deviceId: config.device.id,
            topicPrefix: config.sync.topicPrefix,
            logger,
            ...(page.wsUrl || external
              ? { wsUrl: (page.wsUrl ?? external) as string }
              : { wsUrl: () => `ws://${host}:${sync.stats().broker?.ws ?? 8083}` }),
          })
        : undefined;
      labels?.start();
      return async () => {
        labels?.stop();
        await companion?.close();
        await sync.stop();
      };
    });
    logger.info({ session: this.sessionId, db: this.options.dbFile, source: this.feed.label }, 'daemon started');
  }

  /**
   * The label queue asks about snippets, and about emotion records when the emotion stage runs (their classes
   * from the model's manifest through the registry); emotion answers retrain the wearer's personal head.
   */
  private async labelService(db: Db): Promise<LabelService> {
    const { config, logger } = this.options;
    const heads = new PersonalHeadRepository(db);
    const sources: CandidateSource[] = [snippetSource(db)];
    if (config.emotion.enabled) {
      const labelsOf = manifestLabels(await this.openModels());
      // The queue's belief is the stage's: through the personal head only when the stage applies it.
      const activeHead = config.emotion.personalHead ? (name: string) => heads.active(name) : undefined;
      sources.push(emotionSource(db, { labelsOf, ...(activeHead ? { activeHead } : {}) }));
    }
    const updates = new PersonalHeadUpdates(db, { every: config.labels.personaliseEvery });
    return new LabelService(db, config.labels, sources, logger, updates);
  }

  /** Processes frames until the source ends or a stop is requested. */
  async run(): Promise<RunSummary> {
    const pipeline = this.pipeline as FramePipeline;
    const { serialReplay, recording } = this.inputs as Inputs;
    this.startedAt = performance.now();
    let waitStart = performance.now();
    let yieldCounter = 0;
    for await (const frame of this.feed.frames()) {
      this.metrics.stage('decode').record(performance.now() - waitStart);
      if (serialReplay?.due(frame.tNs)) await serialReplay.until(frame.tNs);
      recording?.onFrame(frame);
      await this.process(pipeline, frame);
      if (this.stopRequested) break;
      // In fast replay the decoder keeps the loop busy; give signals and timers a turn now and then.
      if (++yieldCounter % 256 === 0) {
        this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
        await new Promise((r) => setImmediate(r));
      }
      waitStart = performance.now();
    }
    if (serialReplay && !this.stopRequested) await serialReplay.until();
    return this.finish();
  }

  /** Undo whatever `start()` managed to do, after it failed part-way. */
  async abort(): Promise<void> {
    await this.stopAll();
    this.db?.close();
  }

  requestStop(): void {
    this.stopRequested = 'signal';
    // A live feed may be waiting for a camera; closing it ends the frame loop promptly.
    if (this.options.config.source.type === 'live') this.inputs?.feed.close();
  }

  /**
   * A recorded session carries its scene camera's intrinsics; live, the device uses the latest chessboard
   * calibration stored for it (`glance calibrate intrinsics`). Without either, eye tracking assumes a field of view.
   */
  private sceneIntrinsics(): { sceneCamera?: SceneIntrinsics } {
    const { config } = this.options;
    const fromSession =
      config.source.type === 'replay' ? readSessionIntrinsics(resolve(config.source.session)) : undefined;
    if (fromSession) return { sceneCamera: fromSession };
    const stored = new CameraIntrinsicsRepository(this.db as Db).latest(config.device.id);
    return stored ? { sceneCamera: { cameraMatrix: stored.cameraMatrix, distCoeffs: stored.distCoeffs } } : {};
  }

  /** One capture state for the recorder and the phone's status, so a block the recorder sets is what status shows. */
  private captureState: CaptureState | undefined;
  private capture(): CaptureState {
    if (this.captureState === undefined) {
      const store = new DeviceState(this.db as Db);
      // The configured default becomes the stored state until the wearer changes it, so every reader agrees.
      if (store.get('capture') === undefined) store.set('capture', this.options.config.snippets.capture);
      this.captureState = new CaptureState(store, this.options.config.snippets.capture);
    }
    return this.captureState;
  }

  private get feed() {
    return (this.inputs as Inputs).feed;
  }

  private async process(pipeline: FramePipeline, frame: Frame): Promise<void> {
    try {
      // The whole frame path, every stage included (a scene frame's stages run when its eye frames have come in).
      const start = performance.now();
      await pipeline.handle(frame);
      this.metrics.stage('frame').record(performance.now() - start);
    } catch (error) {
      this.errors.add(`${frame.stream}#${frame.index}: ${error instanceof Error ? error.message : String(error)}`);
      this.options.logger.error({ err: error, stream: frame.stream, index: frame.index }, 'frame failed');
    }
  }

  private async finish(): Promise<RunSummary> {
    const wallS = (performance.now() - this.startedAt) / 1000;
    for (const s of this.feed.status()) {
      if (s.state === 'failed' && s.lastError) this.errors.add(s.lastError);
    }
    this.modelsInUse = this.registry?.inUse() ?? [];
    const stats = this.sync?.stats();
    if (stats)
      this.syncStats = { connected: stats.connected, pendingRecords: stats.outbox.pending, broker: stats.broker };
    await this.stopAll();
    // After the stop: stages finish their last episode or clip in finish().
    this.stageStats = this.pipeline?.stageStats() ?? {};
    const recordingError = this.inputs?.recording?.error;
    if (recordingError) this.errors.add(recordingError);
    const summary = this.summarise(wallS);
    this.db?.close();
    return summary;
  }

  private summarise(wallS: number): RunSummary {
    const pipeline = this.pipeline as FramePipeline;
    const frames: RunSummary['frames'] = {};
    const fps: Record<string, number> = {};
    for (const stream of this.feed.streams) {
      const c = pipeline.counts[stream];
      frames[stream] = { ...c, dropped: c.dropped + this.feed.dropped(stream as StreamName) };
      fps[stream] = Math.round((c.processed / Math.max(wallS, 1e-9)) * 10) / 10;
    }
    const { serialReplay, serialLink } = this.inputs as Inputs;
    const serial = serialReplay?.counts() ?? serialLink?.stats();
    return {
      sessionId: this.sessionId,
      source: this.feed.label,
      wallS: Math.round(wallS * 1000) / 1000,
      // Sampled, not getrusage's maxRSS: Linux carries that over from the parent across exec.
      maxRssMb: Math.round(Math.max(this.peakRss, process.memoryUsage.rss()) / 104857.6) / 10,
      frames,
      fps,
      stages: this.metrics.summary(),
      stageStats: this.stageStats,
      records: this.countRecords(),
      errors: this.errors.summary(),
      models: this.modelsInUse,
      cameras: this.feed.status(),
      ...(serial ? { serial: { linesOk: serial.linesOk, malformed: serial.malformed, seqGaps: serial.seqGaps } } : {}),
      ...(this.syncStats ? { sync: this.syncStats } : {}),
      stoppedBy: this.stopRequested ?? 'end',
    };
  }

  private countRecords(): Record<string, number> {
    const db = this.db as Db;
    const out: Record<string, number> = {};
    for (const table of [
      'frames',
      'gaze_samples',
      'fixations',
      'blinks',
      'telemetry',
      'attention_events',
      'snippets',
      'emotionship',
    ]) {
      out[table] = db
        .prepare(`SELECT COUNT(*) FROM ${table} WHERE session_id = ?`)
        .pluck()
        .get(this.sessionId) as number;
    }
    return out;
  }

  /** Undo the started steps in reverse; a step that fails to stop is logged and the rest still stop. */
  private async stopAll(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop() as Step;
      try {
        await step.stop();
      } catch (error) {
        this.errors.add(`stopping ${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private step(name: string, start: () => () => void | Promise<void>): void {
    const stop = start();
    this.steps.push({ name, stop });
  }

  private async asyncStep(name: string, start: () => Promise<() => void | Promise<void>>): Promise<void> {
    const stop = await start();
    this.steps.push({ name, stop });
  }
}

/** `{ [key]: value }` when value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
