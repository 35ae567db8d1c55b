import * as ort from 'onnxruntime-node';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import { warpLabels } from '../schedulers/flow/warp-labels.ts';
import { SEGMENTATION_SCALES, type SegmentationScale } from './config.ts';
import { classAt, classHistogram, decodeLogits, type LabelMap } from './label-map.ts';
import type { SceneDecision, SegmentationDecision, SegmentationPolicy } from './policy.ts';
import { scaledSize, toInputTensor } from './preprocess.ts';
import { type SegmentationReport, SegmentationTally } from './tally.ts';

/** The latest segmentation, for the stages after this one (emotion cause, attention). */
export interface SegmentationView {
  /** The label map of the current frame: the network's, or the last key's warped by flow, or the last key's. */
  latest(): LabelMap | null;
  /** The class at scene pixel (x, y) in the latest label map, or null when there is none or (x, y) is outside. */
  classAt(x: number, y: number): string | null;
}

/** The model's I/O as its manifest states it, read once when the stage is built. */
export interface SegmentationModelInfo {
  readonly name: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly classes: readonly string[];
  readonly base: { readonly width: number; readonly height: number };
  /**
   * Compute at each scale relative to full scale, from the manifest's per-scale timings (the toolchain's), used
   * only to estimate full-scale time when no frame of a run was segmented at full scale.
   */
  readonly costRatio?: Partial<Record<SegmentationScale, number>>;
}

export interface SegmentationStageOptions {
  /** Battery level in [0, 1] now, when the daemon knows it (the serial peripherals' telemetry). */
  readonly battery?: () => number | undefined;
  /** Each frame's decision, before any later stage sees the frame: the pipeline-wide scene decision. */
  readonly onDecision?: (decision: SceneDecision) => void;
}

/**
 * Segments scene frames with the registry's segmentation network when the policy says so, at the scale it says;
 * on the other frames it warps the last key result by the policy's flow (or keeps it when there is none). Only
 * the latest label map is kept (per-frame maps are too big for SQLite; consumers read them here).
 */
export class SegmentationStage implements Stage, SegmentationView {
  readonly name = 'segmentation';
  /** What later stages read: the current frame's map. */
  private last: LabelMap | null = null;
  /** The last map the network produced: what non-key frames are warped from. */
  private key: LabelMap | null = null;
  private sceneSize = { width: 0, height: 0 };
  private readonly tally = new SegmentationTally();
  private battery: number | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly model: SegmentationModelInfo,
    private readonly policy: SegmentationPolicy,
    private readonly options: SegmentationStageOptions = {},
  ) {}

  async onScene(paired: PairedScene): Promise<void> {
    const { scene } = paired;
    this.sceneSize = { width: scene.width, height: scene.height };
    this.battery = this.options.battery?.();
    const key = this.key;
    const t0 = performance.now();
    const decision = await this.policy.decide({
      index: scene.index,
      tNs: scene.tNs,
      scene: scene.mat,
      last: key ? { tNs: key.tNs, scale: key.scale as SegmentationScale, confidence: key.confidence } : null,
      ...(this.battery === undefined ? {} : { battery: this.battery }),
    });
    this.tally.policy(performance.now() - t0);
    checkScale(decision, this.policy.name);
    this.options.onDecision?.({
      index: scene.index,
      tNs: scene.tNs,
      run: decision.run,
      scale: decision.scale,
      policy: this.policy.name,
    });
    if (decision.run) {
      const ms = await this.segment(paired, decision.scale);
      this.policy.noteModelRun?.(ms, decision.scale);
      this.tally.run(decision.scale, ms);
      return;
    }
    if (key && decision.flow) {
      const w0 = performance.now();
      const warped = warpLabels({ width: key.width, height: key.height, data: key.labels }, decision.flow);
      this.last = {
        ...key,
        tNs: scene.tNs,
        labels: warped.data,
        histogram: classHistogram(warped.data, key.classes.length),
        keyTNs: key.tNs,
      };
      this.tally.reuse(true, performance.now() - w0);
    } else {
      // No flow (or nothing segmented yet): the last map stands for this frame as it is.
      this.last = key;
      this.tally.reuse(false, 0);
    }
  }

  latest(): LabelMap | null {
    return this.last;
  }

  classAt(x: number, y: number): string | null {
    return this.last ? classAt(this.last, x, y, this.sceneSize.width, this.sceneSize.height) : null;
  }

  /** For the run summary (`stageStats.segmentation`): key share, scale histogram, model time spent and saved. */
  stats(): SegmentationReport {
    return this.tally.report({
      model: this.key?.model ?? null,
      policy: this.policy.name,
      costRatio: this.model.costRatio ?? {},
      battery: this.battery ?? null,
      policyStats: this.policy.stats?.() ?? {},
    });
  }

  report(): SegmentationReport {
    return this.stats();
  }

  /** Runs the network on the frame at `scale`; the new map becomes the key and the latest. Returns its ms. */
  private async segment(paired: PairedScene, scale: SegmentationScale): Promise<number> {
    const { scene } = paired;
    const { width, height } = scaledSize(this.model.base, scale);
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
    this.key = { tNs: scene.tNs, width, height, classes: this.model.classes, scale, model: result.model, ...decoded };
    this.last = this.key;
    return ms;
  }
}

function checkScale(decision: SegmentationDecision, policy: string): void {
  if (!(SEGMENTATION_SCALES as readonly number[]).includes(decision.scale)) {
    throw new Error(
      `segmentation policy ${policy} chose scale ${decision.scale}; the stage runs ${SEGMENTATION_SCALES}`,
    );
  }
}
