import * as ort from 'onnxruntime-node';
import type { PolicyInput, SegmentationDecision, SegmentationPolicy } from '../segmentation/policy.ts';
import { frameDeviation } from './deviation.ts';
import type { GreyImage } from './flow/image.ts';
import { denseFlow } from './flow/lucas-kanade.ts';
import { DecisionHistory, STATE_FEATURES, stateVector } from './state.ts';
import { workingFrame } from './working-frame.ts';

/** Runs the policy model: `(f) => registry.run('keyframe', f)` on the device. */
export type PolicyRun = (
  feeds: ort.InferenceSession.FeedsType,
) => Promise<{ readonly outputs: ort.InferenceSession.ReturnType; readonly model?: string }>;

export interface KeyFrameParams {
  /** Longest allowed run of propagated frames after a key (the policy was trained with the same limit). */
  readonly maxInterval: number;
}

export const KEY_FRAME_DEFAULTS: KeyFrameParams = { maxInterval: 10 };

export type KeyFrameStats = {
  readonly frames: number;
  readonly keyFrames: number;
  /** keyFrames / frames. */
  readonly keyShare: number;
  /** Key frames the policy chose (the rest were the first frame or forced by maxInterval). */
  readonly policyKeys: number;
  /** Segmentation runs avoided × the mean reported run time (0 until a run was reported). */
  readonly modelMsSaved: number;
  /** Mean time per frame of the scheduler itself (shrink, flow, features, policy). */
  readonly schedulerMsPerFrame: number;
};

/**
 * The RL key scheduler (docs/schedulers.md): per scene frame, the flow to the last key frame and the deviation
 * from it, plus the decision history, go to the zoo's `keyframe` policy; key when Q(key) > Q(propagate). The
 * first frame is a key, and so is any frame more than `maxInterval` after its key. On a non-key frame the
 * decision carries the flow, and the caller warps the last key result with warpLabels.
 */
export class KeyFrameScheduler implements SegmentationPolicy {
  readonly name = 'keyframe';
  private key: GreyImage | null = null;
  private age = 0;
  private readonly history = new DecisionHistory();
  private frames = 0;
  private keyFrames = 0;
  private policyKeys = 0;
  private modelMs = 0;
  private modelRuns = 0;
  private busyMs = 0;
  /** `name@version` of the policy behind the last decision. */
  model: string | undefined;

  constructor(
    private readonly run: PolicyRun,
    private readonly params: KeyFrameParams = KEY_FRAME_DEFAULTS,
  ) {}

  async decide(input: PolicyInput): Promise<SegmentationDecision> {
    // The shrink is the scheduler's cost too (schedulerMsPerFrame says so): timed here, the rest in decideGrey.
    const t0 = performance.now();
    const current = workingFrame(input.scene);
    this.busyMs += performance.now() - t0;
    return this.decideGrey(current);
  }

  /** The same decision from an already shrunk grey frame (what decide() makes of a Mat). */
  async decideGrey(current: GreyImage): Promise<SegmentationDecision> {
    const t0 = performance.now();
    try {
      this.frames++;
      const key = this.key;
      if (key === null || key.width !== current.width || key.height !== current.height) return this.keyed(current);
      this.age++;
      if (this.age > this.params.maxInterval) return this.keyed(current);
      const flow = denseFlow(current, key);
      const state = stateVector(
        frameDeviation(current, key, flow),
        this.age,
        this.params.maxInterval,
        this.history.share(),
      );
      const result = await this.run({ state: new ort.Tensor('float32', state, [1, STATE_FEATURES.length]) });
      this.model = result.model;
      const q = result.outputs.q;
      if (q === undefined || !(q.data instanceof Float32Array) || q.data.length < 2) {
        throw new Error('keyframe policy: no float32 q output with 2 values');
      }
      if ((q.data[1] as number) > (q.data[0] as number)) {
        this.policyKeys++;
        return this.keyed(current);
      }
      this.history.push(false);
      return { run: false, scale: 1, flow, ...(this.model ? { model: this.model } : {}) };
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  noteModelRun(ms: number): void {
    this.modelMs += ms;
    this.modelRuns++;
  }

  stats(): KeyFrameStats {
    const skipped = this.frames - this.keyFrames;
    return {
      frames: this.frames,
      keyFrames: this.keyFrames,
      keyShare: this.frames === 0 ? 0 : this.keyFrames / this.frames,
      policyKeys: this.policyKeys,
      modelMsSaved: this.modelRuns === 0 ? 0 : (skipped * this.modelMs) / this.modelRuns,
      schedulerMsPerFrame: this.frames === 0 ? 0 : this.busyMs / this.frames,
    };
  }

  private keyed(current: GreyImage): SegmentationDecision {
    this.key = current;
    this.age = 0;
    this.keyFrames++;
    this.history.push(true);
    return { run: true, scale: 1, ...(this.model ? { model: this.model } : {}) };
  }
}
