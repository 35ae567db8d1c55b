import { resolve } from 'node:path';
import type { Db } from '../storage/db.ts';
import { openDatabase } from '../storage/db.ts';
import { frameWriter } from '../storage/frames.ts';
import { SessionRepository } from '../storage/sessions.ts';
import { telemetryWriter } from '../storage/telemetry.ts';
import type { Config } from './config.ts';
import { ErrorLog } from './error-log.ts';
import type { Frame } from './frames.ts';
import type { Logger } from './logger.ts';
import { MetricsRegistry } from './metrics.ts';
import { FramePairer } from './pairing.ts';
import { FramePipeline } from './pipeline.ts';
import { SerialLogReplay } from './serial/replay.ts';
import { SerialReplayFeed } from './serial/replay-feed.ts';
import { telemetrySink } from './serial/telemetry-sink.ts';
import { SessionReplay } from './session/replay.ts';
import type { RunSummary } from './summary.ts';

export interface DaemonOptions {
  readonly config: Config;
  readonly dbFile: string;
  readonly logger: Logger;
}

interface Step {
  readonly name: string;
  readonly stop: () => void;
}

/**
 * The composition root: `start()` is a list of named steps, each of which registers how to undo itself, and
 * `stop()` undoes them in reverse. Everything a stage needs is built here and passed in.
 */
export class Daemon {
  private readonly steps: Step[] = [];
  private readonly metrics = new MetricsRegistry();
  private readonly errors = new ErrorLog();
  private db: Db | undefined;
  private replay: SessionReplay | undefined;
  private pipeline: FramePipeline | undefined;
  private sessions: SessionRepository | undefined;
  private serial: SerialReplayFeed | undefined;
  private sessionId = '';
  private stopRequested: 'signal' | undefined;
  private startedAt = 0;

  constructor(private readonly options: DaemonOptions) {}

  async start(): Promise<void> {
    const { config, logger } = this.options;
    if (config.source.type !== 'replay') {
      throw new Error('live cameras are wired by the live source step; use --replay for a recorded session');
    }
    const source = config.source;
    // Open the input before the database: bad input must fail before anything is written.
    this.step('replay', () => {
      this.replay = new SessionReplay(resolve(source.session), source.pace);
      return () => this.replay?.close();
    });
    this.step('storage', () => {
      this.db = openDatabase(this.options.dbFile);
      this.sessions = new SessionRepository(this.db);
      const recovered = this.sessions.recoverInterrupted();
      if (recovered > 0) logger.warn({ recovered }, 'sessions left running by a killed process marked interrupted');
      return () => this.db?.close();
    });
    this.step('session', () => {
      const manifest = (this.replay as SessionReplay).manifest;
      const wallMs = Date.now();
      this.sessionId = `${manifest.id}@${wallMs}`;
      this.sessions?.start({
        id: this.sessionId,
        device: config.device.id,
        source: source.session,
        startedWallMs: wallMs,
        startedTNs: process.hrtime.bigint(),
      });
      return () => undefined;
    });
    this.step('pipeline', () => {
      const manifest = (this.replay as SessionReplay).manifest;
      const eyes = (['eye0', 'eye1'] as const).filter((e) => manifest.streams[e] !== undefined);
      const pairer = new FramePairer(eyes, config.pipeline.pairingMaxSkewMs);
      const rows = frameWriter(this.db as Db, config.storage.batchSize);
      this.pipeline = new FramePipeline(this.sessionId, pairer, rows, this.metrics);
      return () => this.pipeline?.finish();
    });
    this.step('serial', () => {
      const manifest = (this.replay as SessionReplay).manifest;
      if (manifest.serial === undefined) return () => undefined;
      const telemetry = telemetryWriter(this.db as Db, config.storage.batchSize);
      const log = new SerialLogReplay(resolve(source.session, manifest.serial));
      this.serial = new SerialReplayFeed(log, telemetrySink(telemetry, this.sessionId));
      return () => telemetry.flush();
    });
    logger.info({ session: this.sessionId, db: this.options.dbFile }, 'daemon started');
  }

  /** Processes frames until the source ends or a stop is requested. */
  async run(): Promise<RunSummary> {
    const replay = this.replay as SessionReplay;
    const pipeline = this.pipeline as FramePipeline;
    this.startedAt = performance.now();
    let waitStart = performance.now();
    let yieldCounter = 0;
    for await (const frame of replay.frames()) {
      this.metrics.stage('decode').record(performance.now() - waitStart);
      if (this.serial) await this.serial.until(frame.tNs);
      this.process(pipeline, frame);
      if (this.stopRequested) break;
      // In fast replay the decoder keeps the loop busy; give signals and timers a turn now and then.
      if (++yieldCounter % 256 === 0) await new Promise((r) => setImmediate(r));
      waitStart = performance.now();
    }
    if (this.serial && !this.stopRequested) await this.serial.until();
    for (const s of replay.status()) {
      if (s.state === 'failed' && s.lastError) this.errors.add(s.lastError);
    }
    return this.finish();
  }

  /** Undo whatever `start()` managed to do, after it failed part-way. */
  abort(): void {
    this.stopAll();
    this.db?.close();
  }

  requestStop(): void {
    this.stopRequested = 'signal';
  }

  private process(pipeline: FramePipeline, frame: Frame): void {
    try {
      pipeline.handle(frame);
    } catch (error) {
      this.errors.add(`${frame.stream}#${frame.index}: ${error instanceof Error ? error.message : String(error)}`);
      this.options.logger.error({ err: error, stream: frame.stream, index: frame.index }, 'frame failed');
    }
  }

  private finish(): RunSummary {
    const wallS = (performance.now() - this.startedAt) / 1000;
    this.stopAll();
    const summary = this.summarise(wallS);
    this.db?.close();
    return summary;
  }

  private summarise(wallS: number): RunSummary {
    const pipeline = this.pipeline as FramePipeline;
    const replay = this.replay as SessionReplay;
    const frames: RunSummary['frames'] = {};
    const fps: Record<string, number> = {};
    for (const stream of Object.keys(replay.expectedFrames())) {
      const c = pipeline.counts[stream as keyof typeof pipeline.counts];
      frames[stream] = { ...c };
      fps[stream] = Math.round((c.processed / Math.max(wallS, 1e-9)) * 10) / 10;
    }
    return {
      sessionId: this.sessionId,
      source: replay.dir,
      wallS: Math.round(wallS * 1000) / 1000,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
      frames,
      fps,
      stages: this.metrics.summary(),
      records: this.countRecords(),
      errors: this.errors.summary(),
      models: [],
      cameras: replay.status(),
      ...(this.serial ? { serial: this.serial.counts() } : {}),
      stoppedBy: this.stopRequested ?? 'end',
    };
  }

  private countRecords(): Record<string, number> {
    const db = this.db as Db;
    const out: Record<string, number> = {};
    for (const table of ['frames', 'gaze_samples', 'telemetry']) {
      const row = db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE session_id = ?`).get(this.sessionId) as {
        n: number;
      };
      out[table] = row.n;
    }
    return out;
  }

  /** Undo the started steps in reverse; the session row records how the run ended. */
  private stopAll(): void {
    while (this.steps.length > 0) {
      const step = this.steps.pop() as Step;
      if (step.name === 'storage') {
        if (this.sessionId) this.sessions?.end(this.sessionId, 'completed');
        continue; // the database stays open for the summary; finish() closes it
      }
      try {
        step.stop();
      } catch (error) {
        this.errors.add(`stopping ${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private step(name: string, start: () => () => void): void {
    const stop = start();
    this.steps.push({ name, stop });
  }
}
