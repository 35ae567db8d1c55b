import type { Mat } from '../../device/opencv.ts';
import type { Flow } from './flow/image.ts';

/**
 * The segmentation stage's policy contract, aligned with `pipelines/segmentation/policy.ts` on the `seg` branch
 * (`decide(input) → { run, scale }`), plus what a flow-based key scheduler needs from it and gives back:
 * - the input carries the scene frame (the scheduler measures how far it moved from the last key);
 * - `decide` may return a promise (the policy is an ONNX model run through the registry);
 * - a non-key decision carries the current → last-key flow, for `warpLabels(lastKeyLabels, flow)`.
 */
export interface KeyFramePolicyInput {
  readonly index: number;
  readonly tNs: bigint;
  /** The scene frame (BGR or grey); borrowed, not released by the policy. */
  readonly scene: Mat;
}

export interface SegmentationDecision {
  /** Run the segmentation network on this frame (a key frame), or reuse the last key result. */
  readonly run: boolean;
  /** Input scale for the network when it runs; the key scheduler always says full resolution. */
  readonly scale: 1;
  /** On a non-key frame: the current → last-key flow, for warpLabels(lastKeyResult, flow). */
  readonly flow?: Flow;
  /** `name@version` of the model that decided, when a model did. */
  readonly model?: string;
}

/** A per-frame policy the segmentation stage consults before running its network. */
export interface SegmentationPolicy {
  readonly name: string;
  decide(input: KeyFramePolicyInput): Promise<SegmentationDecision>;
  /** The segmentation stage reports each network run's time, so the policy can report the time it saved. */
  noteModelRun(ms: number): void;
}
