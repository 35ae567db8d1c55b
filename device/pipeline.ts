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
  onEyeFrame?(frame: Frame): void;
  onScene?(paired: PairedScene): void;
  /** Called once at the end of input so a stage can close what it holds open. */
  finish?(): void;
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

  handle(frame: Frame): void {
    this.counts[frame.stream].read++;
    if (frame.stream !== 'scene') {
      for (const stage of this.stages) {
        if (stage.onEyeFrame) this.metrics.time(stage.name, () => stage.onEyeFrame?.(frame));
      }
      this.metrics.time('store', () =>
        this.frameRows.add({ sessionId: this.sessionId, stream: frame.stream, index: frame.index, tNs: frame.tNs }),
      );
      this.counts[frame.stream].processed++;
    }
    this.emit(this.metrics.time('pairing', () => this.pairer.push(frame)));
    if (frame.stream !== 'scene') frame.mat.release();
  }

  /** A stream that ended early stops holding scene frames back. */
  streamEnded(stream: StreamName): void {
    if (stream !== 'scene') this.emit(this.pairer.endEye(stream));
  }

  finish(): void {
    this.emit(this.pairer.flush());
    for (const stage of this.stages) stage.finish?.();
    this.frameRows.flush();
  }

  private emit(paired: PairedScene[]): void {
    for (const p of paired) {
      for (const stage of this.stages) {
        if (stage.onScene) this.metrics.time(stage.name, () => stage.onScene?.(p));
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
