import type { Mat } from '../../device/opencv.ts';
import type { Flow } from '../schedulers/flow/image.ts';
import type { SegmentationScale } from './config.ts';

/** What the last run of the segmentation network gave (the key result), as a policy's state needs it. */
export interface LastSegmentation {
  readonly tNs: bigint;
  readonly scale: SegmentationScale;
  /** Mean winning softmax probability of that label map (LabelMap.confidence). */
  readonly confidence: number;
}

/** What a policy sees before a scene frame: the frame itself and what the last segmentation gave. */
export interface PolicyInput {
  readonly index: number;
  readonly tNs: bigint;
  /** The scene frame (BGR, as decoded); borrowed: a policy copies what it keeps and never releases it. */
  readonly scene: Mat;
  /** The last run of the network, or null before the first one. */
  readonly last: LastSegmentation | null;
  /** Battery level in [0, 1] from the serial peripherals' telemetry, when the daemon has one. */
  readonly battery?: number;
}

/** Per scene frame: run the network at `scale`, or reuse the last key result (warped by `flow` when given). */
export interface SegmentationDecision {
  /** Run the segmentation network on this frame (a key frame), or reuse the last key result. */
  readonly run: boolean;
  /** Input scale for the network when it runs (a fraction of the model's base input). */
  readonly scale: SegmentationScale;
  /** On a reuse frame: the current → last-key flow, for warpLabels(lastKeyLabels, flow). */
  readonly flow?: Flow;
  /** `name@version` of the model that decided, when a model did. */
  readonly model?: string;
}

/**
 * Decides per scene frame whether the segmentation network runs and at which scale: the one contract for the
 * fixed interval (the default), the RL key-frame scheduler, the RL resolution policy and both together. The
 * stage awaits `decide` (a learnt policy is an ONNX model run through the registry).
 */
export interface SegmentationPolicy {
  readonly name: string;
  decide(input: PolicyInput): Promise<SegmentationDecision>;
  /** The stage reports each network run's time and scale (a policy may keep its own accounting). */
  noteModelRun?(ms: number, scale: SegmentationScale): void;
  /** The policy's own figures for the run summary (flat numbers). */
  stats?(): Record<string, number | string | null>;
}

/** Every Nth scene frame (counted from the first one the stage sees) at one fixed scale. */
export class FixedIntervalPolicy implements SegmentationPolicy {
  readonly name: string;
  private seen = 0;

  constructor(
    private readonly everyNth: number,
    private readonly scale: SegmentationScale,
  ) {
    if (!Number.isInteger(everyNth) || everyNth < 1)
      throw new Error(`everyNth must be a positive integer: ${everyNth}`);
    this.name = `fixed-interval(${everyNth}, ${scale})`;
  }

  async decide(_input: PolicyInput): Promise<SegmentationDecision> {
    const run = this.seen % this.everyNth === 0;
    this.seen++;
    return { run, scale: this.scale };
  }
}

/**
 * The current scene frame's decision, shared with the stages after segmentation (StageContext.sceneDecision):
 * one decision for the whole pipeline, so a stage like attention can reuse its last output on a reuse frame.
 */
export interface SceneDecision {
  readonly index: number;
  readonly tNs: bigint;
  /** False: a reuse frame (the last key result stands, warped by flow when the policy gave one). */
  readonly run: boolean;
  readonly scale: SegmentationScale;
  readonly policy: string;
}
