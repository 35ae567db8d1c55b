import type { SegmentationScale } from './config.ts';

/** What a policy sees before a scene frame: the frame and what the last segmentation gave. */
export interface PolicyInput {
  readonly index: number;
  readonly tNs: bigint;
  /** The last segmentation, or null before the first one. */
  readonly last: { readonly tNs: bigint; readonly scale: SegmentationScale; readonly confidence: number } | null;
}

/** Per frame: segment it or not, and at which scale of the model's base input. */
export interface SegmentationDecision {
  readonly run: boolean;
  readonly scale: SegmentationScale;
}

/**
 * Decides per scene frame whether the segmentation network runs and at which scale. The fixed-interval policy
 * below is the default; a learnt scheduler (key frames, adaptive resolution) implements the same interface.
 */
export interface SegmentationPolicy {
  readonly name: string;
  decide(input: PolicyInput): SegmentationDecision;
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

  decide(_input: PolicyInput): SegmentationDecision {
    const run = this.seen % this.everyNth === 0;
    this.seen++;
    return { run, scale: this.scale };
  }
}
