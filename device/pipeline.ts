import type { BatchWriter } from '../storage/batch-writer.ts';
import type { FrameRow } from '../storage/frames.ts';
import { type Frame, STREAM_NAMES, type StreamName } from './frames.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { FramePairer, PairedScene } from './pairing.ts';

/**
 * A per-frame stage. Eye frames and paired scene frames flow one way through the stages in order; each stage
 * gets what it needs through its constructor, and is timed under its name. A frame's pixels are released when
 * it has passed every stage: a stage that keeps pixels beyond its call (a snippet's pre-capture buffer) copies them.
 */
export interface Stage {
  readonly name: string;
  /**
   * A stage may answer with a promise (a model's inference runs on onnxruntime's threads); the pipeline awaits it
   * before the next stage, so stages stay in order and a frame's pixels live until every stage is done with them.
   */
  onEyeFrame?(frame: Frame): void | Promise<void>;
  onScene?(paired: PairedScene): void | Promise<void>;
  /** Called once at the end of input so a stage can close what it holds open. */
  finish?(): void | Promise<void>;
  /**
   * What the run summary reports for this stage beyond its timing (the share of frames a model ran on, clips
   * written, frames per scale…): JSON-serialisable, flat numbers where it can.
   */
  stats?(): Record<string, unknown>;
}

export interface FrameCounts {
  read: number;
  processed: number;
  dropped: number;
}

/** The daemon's frame path: pairing, then the stages, then the per-frame index row. */
export class FramePipeline {
  readonly counts = Object.fromEntries(STREAM_NAMES.map((s) => [s, { read: 0, processed: 0, dropped: 0 }])) as Record<
    StreamName,
    FrameCounts
  >;

  constructor(
    private readonly sessionId: string,
    private readonly pairer: FramePairer,
    private readonly frameRows: BatchWriter<FrameRow>,
    private readonly metrics: MetricsRegistry,
    private readonly stages: readonly Stage[] = [],
  ) {}

  /**
   * Runs one frame through the stages. Synchronous stages cost no extra turn of the event loop: the returned
   * promise is already settled unless some stage was asynchronous.
   */
  async handle(frame: Frame): Promise<void> {
    this.counts[frame.stream].read++;
    if (frame.stream !== 'scene') {
      try {
        for (const stage of this.stages) {
          if (stage.onEyeFrame) await this.timed(stage.name, () => stage.onEyeFrame?.(frame));
        }
      } catch (error) {
        frame.mat.release();
        throw error;
      }
      this.metrics.time('store', () =>
        this.frameRows.add({ sessionId: this.sessionId, stream: frame.stream, index: frame.index, tNs: frame.tNs }),
      );
      this.counts[frame.stream].processed++;
    }
    await this.emit(this.metrics.time('pairing', () => this.pairer.push(frame)));
    if (frame.stream !== 'scene') frame.mat.release();
  }

  /** Each stage's own figures, for the run summary. */
  stageStats(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const stage of this.stages) {
      const s = stage.stats?.();
      if (s) out[stage.name] = s;
    }
    return out;
  }

  /** A stream that ended early stops holding scene frames back. */
  async streamEnded(stream: StreamName): Promise<void> {
    if (stream !== 'scene') await this.emit(this.pairer.endEye(stream));
  }

  async finish(): Promise<void> {
    await this.emit(this.pairer.flush());
    for (const stage of this.stages) await stage.finish?.();
    this.frameRows.flush();
  }

  /** Times a stage call, including the wait for its promise when it returns one. */
  private timed(name: string, fn: () => void | Promise<void>): void | Promise<void> {
    const start = performance.now();
    const result = fn();
    if (!(result instanceof Promise)) {
      this.metrics.stage(name).record(performance.now() - start);
      return;
    }
    return result.finally(() => this.metrics.stage(name).record(performance.now() - start));
  }

  private async emit(paired: PairedScene[]): Promise<void> {
    for (const [i, p] of paired.entries()) {
      try {
        for (const stage of this.stages) {
          if (stage.onScene) await this.timed(stage.name, () => stage.onScene?.(p));
        }
      } catch (error) {
        for (const rest of paired.slice(i)) rest.scene.mat.release();
        throw error;
      }
      this.metrics.time('store', () =>
        this.frameRows.add({
          sessionId: this.sessionId,
          stream: 'scene',
          index: p.scene.index,
          tNs: p.scene.tNs,
          eye0Index: p.eye0?.index ?? null,
          eye1Index: p.eye1?.index ?? null,
        }),
      );
      this.counts.scene.processed++;
      p.scene.mat.release();
    }
  }
}
