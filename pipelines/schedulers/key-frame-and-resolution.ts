import type { SegmentationScale } from '../segmentation/config.ts';
import type { PolicyInput, SegmentationDecision, SegmentationPolicy } from '../segmentation/policy.ts';
import type { KeyFrameScheduler } from './key-frame-scheduler.ts';
import type { ResolutionPolicy } from './resolution-policy.ts';

/**
 * Both policies together (`segmentation.policy: both`): the key-frame scheduler decides whether the network runs
 * or the last key map is warped by flow; on a key frame the resolution policy picks the scale (its reuse action
 * masked: the key scheduler has already decided the frame needs the network).
 */
export class KeyFrameAndResolutionPolicy implements SegmentationPolicy {
  readonly name = 'keyframe+resolution';

  constructor(
    private readonly keyFrames: KeyFrameScheduler,
    private readonly resolution: ResolutionPolicy,
  ) {}

  async decide(input: PolicyInput): Promise<SegmentationDecision> {
    const key = await this.keyFrames.decide(input);
    if (!key.run) {
      this.resolution.observe(input);
      return key;
    }
    const action = await this.resolution.choose(input, false);
    const scale = action.kind === 'scale' ? action.scale : 1;
    const models = [key.model, this.resolution.model].filter((m) => m !== undefined).join('+');
    return { run: true, scale, ...(models ? { model: models } : {}) };
  }

  noteModelRun(ms: number, _scale: SegmentationScale): void {
    this.keyFrames.noteModelRun(ms);
  }

  stats(): Record<string, number | string | null> {
    const k = this.keyFrames.stats();
    const r = this.resolution.stats();
    return {
      keyframeModel: this.keyFrames.model ?? null,
      keyframePolicyKeys: k.policyKeys,
      schedulerMsPerFrame: Math.round(k.schedulerMsPerFrame * 100) / 100,
      resolutionModel: r.model ?? null,
    };
  }
}
