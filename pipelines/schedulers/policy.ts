import type { Mat } from '../../device/opencv.ts';
import type { Flow } from './flow/image.ts';

/**
 * What a scheduler tells the segmentation stage about one scene frame. Defined here because the segmentation
 * stage (pipelines/segmentation) did not exist yet when the key scheduler was written: the lead aligns the two.
 */
export interface SegmentationDecision {
  /** Run the segmentation network on this frame (a key frame), or reuse the last key result. */
  readonly run: boolean;
  /** Input scale for the network when it runs (1 = full resolution); the key scheduler always says 1. */
  readonly scale: number;
  /** On a non-key frame: the current → last-key flow, for warpLabels(lastKeyResult, flow). */
  readonly flow?: Flow;
  /** `name@version` of the model that decided, when a model did. */
  readonly model?: string;
}

/** A per-frame policy the segmentation stage consults before running its network. */
export interface SegmentationPolicy {
  readonly name: string;
  decide(scene: Mat, tNs: bigint): Promise<SegmentationDecision>;
  /** The segmentation stage reports each network run's time, so the policy can report the time it saved. */
  noteModelRun(ms: number): void;
}
