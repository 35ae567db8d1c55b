import type { SegmentationDecision } from '../segmentation/policy.ts';
import { frameDeviation } from './deviation.ts';
import type { GreyImage } from './flow/image.ts';
import { denseFlow } from './flow/lucas-kanade.ts';

/** A key scheduler fed grey working frames (KeyFrameScheduler.decideGrey and the baselines below). */
export interface GreyScheduler {
  decideGrey(current: GreyImage): Promise<SegmentationDecision> | SegmentationDecision;
}

/**
 * The paper's first baseline: keys evenly spaced at `rate` keys a frame (frame 0, then whenever ⌊t·rate⌋
 * steps, so 1/2.5 alternates intervals of 2 and 3). Non-key frames get the flow to the last key.
 */
export class FixedRateScheduler implements GreyScheduler {
  private t = 0;
  private key: GreyImage | null = null;

  constructor(private readonly rate: number) {
    if (!(rate > 0 && rate <= 1)) throw new Error(`fixed key rate must be in (0, 1], got ${rate}`);
  }

  decideGrey(current: GreyImage): SegmentationDecision {
    const t = this.t++;
    const isKey = t === 0 || Math.floor(t * this.rate + 1e-9) > Math.floor((t - 1) * this.rate + 1e-9);
    if (isKey || this.key === null) {
      this.key = current;
      return { run: true, scale: 1 };
    }
    return { run: false, scale: 1, flow: denseFlow(current, this.key) };
  }
}

/**
 * The paper's adaptive heuristic: a key when the motion-compensated residual from the last key exceeds `level`
 * grey levels (or the interval reaches `maxInterval`).
 */
export class ThresholdScheduler implements GreyScheduler {
  private key: GreyImage | null = null;
  private age = 0;

  constructor(
    private readonly level: number,
    private readonly maxInterval: number,
  ) {}

  decideGrey(current: GreyImage): SegmentationDecision {
    if (this.key !== null && ++this.age <= this.maxInterval) {
      const flow = denseFlow(current, this.key);
      if (frameDeviation(current, this.key, flow).residual <= this.level) return { run: false, scale: 1, flow };
    }
    this.key = current;
    this.age = 0;
    return { run: true, scale: 1 };
  }
}
