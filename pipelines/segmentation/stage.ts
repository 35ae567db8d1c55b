import * as ort from 'onnxruntime-node';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import type { SegmentationScale } from './config.ts';
import { classAt, decodeLogits, type LabelMap } from './label-map.ts';
import type { SegmentationPolicy } from './policy.ts';
import { scaledSize, toInputTensor } from './preprocess.ts';

/** The latest segmentation, for the stages after this one (emotion cause, attention). */
export interface SegmentationView {
  latest(): LabelMap | null;
  /** The class at scene pixel (x, y) in the latest label map, or null when there is none or (x, y) is outside. */
  classAt(x: number, y: number): string | null;
}

/** What a run did, for the run summary. */
export type SegmentationReport = {
  readonly model: string | null;
  readonly policy: string;
  readonly framesSeen: number;
  readonly framesSegmented: number;
  readonly modelMs: number;
  readonly byScale: Record<string, { frames: number; modelMs: number }>;
};

/** The model's I/O as its manifest states it, read once when the stage is built. */
export interface SegmentationModelInfo {
  readonly name: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly classes: readonly string[];
  readonly base: { readonly width: number; readonly height: number };
}

/**
 * Segments scene frames with the registry's segmentation network when the policy says so, at the scale it says,
 * and keeps only the latest label map (per-frame maps are too big for SQLite; consumers read them here).
 */
export class SegmentationStage implements Stage, SegmentationView {
  readonly name = 'segmentation';
  private last: LabelMap | null = null;
  private sceneSize = { width: 0, height: 0 };
  private seen = 0;
  private readonly byScale = new Map<SegmentationScale, { frames: number; modelMs: number }>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly model: SegmentationModelInfo,
    private readonly policy: SegmentationPolicy,
  ) {}

  async onScene(paired: PairedScene): Promise<void> {
    const { scene } = paired;
    this.seen++;
    const last = this.last
      ? { tNs: this.last.tNs, scale: this.last.scale as SegmentationScale, confidence: this.last.confidence }
      : null;
    const decision = await this.policy.decide({ index: scene.index, tNs: scene.tNs, scene: scene.mat, last });
    if (!decision.run) return;
    const { width, height } = scaledSize(this.model.base, decision.scale);
    const input = toInputTensor(scene.mat, width, height);
    const t0 = performance.now();
    const result = await this.registry.run(this.model.name, {
      [this.model.inputName]: new ort.Tensor('float32', input, [1, 3, height, width]),
    });
    const ms = performance.now() - t0;
    const logits = result.outputs[this.model.outputName];
    if (!logits || !(logits.data instanceof Float32Array))
      throw new Error(`${result.model}: no float32 ${this.model.outputName} output`);
    const [, classes, h, w] = logits.dims as readonly number[];
    if (classes !== this.model.classes.length || h !== height || w !== width) {
      throw new Error(
        `${result.model}: logits of shape [${logits.dims.join(', ')}], expected [1, ${this.model.classes.length}, ${height}, ${width}]`,
      );
    }
    const decoded = decodeLogits(logits.data, classes, width, height);
    this.sceneSize = { width: scene.width, height: scene.height };
    this.last = {
      tNs: scene.tNs,
      width,
      height,
      classes: this.model.classes,
      scale: decision.scale,
      model: result.model,
      ...decoded,
    };
    const s = this.byScale.get(decision.scale) ?? { frames: 0, modelMs: 0 };
    this.byScale.set(decision.scale, { frames: s.frames + 1, modelMs: s.modelMs + ms });
  }

  latest(): LabelMap | null {
    return this.last;
  }

  classAt(x: number, y: number): string | null {
    return this.last ? classAt(this.last, x, y, this.sceneSize.width, this.sceneSize.height) : null;
  }

  stats(): SegmentationReport {
    return this.report();
  }

  report(): SegmentationReport {
    let frames = 0;
    let modelMs = 0;
    const byScale: SegmentationReport['byScale'] = {};
    for (const [scale, s] of [...this.byScale].sort((a, b) => b[0] - a[0])) {
      frames += s.frames;
      modelMs += s.modelMs;
      byScale[String(scale)] = { frames: s.frames, modelMs: round(s.modelMs) };
    }
    return {
      model: this.last?.model ?? null,
      policy: this.policy.name,
      framesSeen: this.seen,
      framesSegmented: frames,
      modelMs: round(modelMs),
      byScale,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
