import * as ort from 'onnxruntime-node';
import type { GreyScheduler } from '../../pipelines/schedulers/baselines.ts';
import type { GreyImage } from '../../pipelines/schedulers/flow/image.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { type Choice, type FrameChooser, REUSE } from './schedule-eval.ts';
import { SCALES, type SegmentedSequence } from './segmented-sequence.ts';

/** glance_train.seg.traces MAX_AGE: a map is reused for at most this many frames after its own. */
export const MAX_REUSE_AGE = 8;
/** glance_train.seg.resolution_policy DIFF_SCALE. */
const DIFF_SCALE = 100;

export type PolicyRun = (feeds: ort.InferenceSession.FeedsType) => Promise<{
  readonly outputs: ort.InferenceSession.ReturnType;
}>;

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/**
 * The zoo's resolution policy as glance_train.seg.resolution_policy.state_of builds its state (nine features:
 * diff to the last segmented frame and to the previous frame, that map's confidence, age and scale, battery);
 * argmax of the logits with reuse masked when there is no map or it is older than MAX_REUSE_AGE. Reuse warps the
 * last map by denseFlow(current, last segmented frame). For the toolchain's evaluation and the bench; the
 * device's own class lives in pipelines/.
 */
export class ResolutionChooser implements FrameChooser {
  private key = -1;
  private keyScale = 0;

  constructor(
    private readonly run: PolicyRun,
    private readonly battery = 1,
  ) {}

  async choose(t: number, seq: SegmentedSequence, allowReuse = true): Promise<Choice> {
    const logits = await this.logits(t, seq);
    const canReuse = allowReuse && this.key >= 0 && t - this.key <= MAX_REUSE_AGE;
    let best = 0;
    for (let a = 1; a < logits.length; a++) {
      if (a === REUSE && !canReuse) continue;
      if ((logits[a] as number) > (logits[best] as number)) best = a;
    }
    if (best === REUSE) {
      return { action: REUSE, flow: denseFlow(seq.grey[t] as GreyImage, seq.grey[this.key] as GreyImage) };
    }
    this.key = t;
    this.keyScale = best;
    return { action: best };
  }

  private async logits(t: number, seq: SegmentedSequence): Promise<Float32Array> {
    const s = new Float32Array(9);
    const g = seq.grey40;
    if (this.key >= 0) {
      s[0] = meanAbsDiff(g[t] as Float32Array, g[this.key] as Float32Array) * DIFF_SCALE;
      s[2] = seq.confidence[this.key]?.[this.keyScale] as number;
      s[3] = (t - this.key) / MAX_REUSE_AGE;
      s[4 + this.keyScale] = 1;
    }
    if (t > 0) s[1] = meanAbsDiff(g[t] as Float32Array, g[t - 1] as Float32Array) * DIFF_SCALE;
    s[8] = this.battery;
    const out = await this.run({ state: new ort.Tensor('float32', s, [1, 9]) });
    const l = out.outputs.logits?.data;
    if (!(l instanceof Float32Array) || l.length !== SCALES.length + 1) {
      throw new Error('resolution policy: no float32 logits output with 5 values');
    }
    return l;
  }
}

/**
 * Both policies together: the key scheduler says whether the network runs; when it does, the resolution policy
 * picks the scale (reuse masked: the key scheduler has already said this frame needs the network).
 */
export class CombinedChooser implements FrameChooser {
  constructor(
    private readonly keys: GreyScheduler,
    private readonly resolution: ResolutionChooser,
  ) {}

  async choose(t: number, seq: SegmentedSequence): Promise<Choice> {
    const d = await this.keys.decideGrey(seq.grey[t] as GreyImage);
    if (!d.run && d.flow !== undefined) return { action: REUSE, flow: d.flow };
    return this.resolution.choose(t, seq, false);
  }
}
