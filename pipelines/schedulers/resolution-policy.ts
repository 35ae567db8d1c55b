import * as ort from 'onnxruntime-node';
import { SEGMENTATION_SCALES, type SegmentationScale } from '../segmentation/config.ts';
import type { PolicyInput, SegmentationDecision, SegmentationPolicy } from '../segmentation/policy.ts';
import type { GreyImage } from './flow/image.ts';
import { denseFlow } from './flow/lucas-kanade.ts';
import type { PolicyRun } from './key-frame-scheduler.ts';
import {
  DEFAULT_BATTERY,
  type FeatureKey,
  featureGrey,
  MAX_AGE,
  RESOLUTION_FEATURES,
  resolutionState,
  TRAINING_FPS,
} from './resolution-features.ts';
import { workingFrame } from './working-frame.ts';

/** One of the policy's outputs: segment at a scale, or reuse the last map. */
export type ResolutionAction =
  | { readonly kind: 'scale'; readonly scale: SegmentationScale }
  | { readonly kind: 'reuse' };

/** The policy model's I/O as its manifest states it. */
export interface ResolutionModelInfo {
  readonly inputName: string;
  readonly outputName: string;
  /** Output index → action (manifest `labels.<output>`: scale1, scale0.75, …, reuse). */
  readonly actions: readonly ResolutionAction[];
  /** Frame rate of the training sequences: ages and "previous frame" are measured in its frames. */
  readonly fps: number;
  /**
   * Whether reuse means the last map warped by dense flow to this frame (what the version was trained on, from
   * 1.1.0) rather than the last map as it was: the quality the policy expects from reuse depends on it.
   */
  readonly reuseWarps: boolean;
}

interface ManifestLike {
  readonly inputs: readonly { name: string; shape?: readonly unknown[]; meaning?: string | undefined }[];
  readonly outputs: readonly { name: string }[];
  readonly labels: Record<string, unknown>;
  readonly dataset?: unknown;
  readonly description?: string;
}

/**
 * Reads what the device relies on from the policy's manifest and refuses, by name, one whose features are not
 * the ones computed here (a retrained version with other features needs new device code, not a silent mismatch).
 */
export function resolutionModelInfo(manifest: ManifestLike): ResolutionModelInfo {
  const input = manifest.inputs[0];
  const output = manifest.outputs[0];
  if (!input || !output) throw new Error('resolution-policy manifest: needs an input and an output');
  const listed = /features in this order: ([^;]+)/.exec(input.meaning ?? '')?.[1]?.split(/,\s*/);
  if (!listed || listed.join(',') !== RESOLUTION_FEATURES.join(',')) {
    throw new Error(
      `resolution-policy manifest: input ${input.name} lists features [${listed?.join(', ') ?? 'none'}]; ` +
        `this device computes [${RESOLUTION_FEATURES.join(', ')}]`,
    );
  }
  const labels = manifest.labels[output.name];
  if (!Array.isArray(labels) || labels.length === 0) {
    throw new Error(`resolution-policy manifest: labels.${output.name} must name the actions`);
  }
  const actions = labels.map((label): ResolutionAction => {
    if (label === 'reuse') return { kind: 'reuse' };
    const scale = Number(/^scale([0-9.]+)$/.exec(String(label))?.[1]);
    if (!(SEGMENTATION_SCALES as readonly number[]).includes(scale)) {
      throw new Error(
        `resolution-policy manifest: action ${String(label)} is neither reuse nor a scale the stage runs`,
      );
    }
    return { kind: 'scale', scale: scale as SegmentationScale };
  });
  const fps = Number((manifest.dataset as { train?: { fps?: unknown } } | undefined)?.train?.fps ?? TRAINING_FPS);
  if (!(fps > 0)) throw new Error(`resolution-policy manifest: dataset.train.fps ${fps} is not a frame rate`);
  const reuseWarps = /warped by (dense )?flow/.test(manifest.description ?? '');
  return { inputName: input.name, outputName: output.name, actions, fps, reuseWarps };
}

/** How far back "the previous frame" may reach, in training frames (older frames are forgotten). */
const PREV_WINDOW = 2;

/**
 * The RL adaptive-resolution policy (docs/segmentation.md, after arXiv 2104.04443) on the device: per scene
 * frame its 9 cheap features (40×30 grey difference from the last segmented frame and from the previous frame,
 * the last map's confidence, age and scale, the battery level) go to the zoo's `resolution-policy`; the argmax
 * action is a scale, or reuse of the last map (masked when there is none or it is older than MAX_AGE frames).
 *
 * The policy was trained on 10 fps sequences while scene cameras run faster, so time is measured in training
 * frames: the key's age is its age in seconds × the training fps, and "the previous frame" is the frame about
 * one training frame (100 ms) earlier — the features keep their meaning rather than their frame count.
 */
export class ResolutionPolicy implements SegmentationPolicy {
  readonly name = 'resolution';
  /** `name@version` of the policy behind the last decision. */
  model: string | undefined;
  private key: { readonly tNs: bigint; readonly grey: Float32Array } | null = null;
  /** The key frame as the flow sees it, kept only when reuse warps (workingFrame, 160 px grey). */
  private keyWork: GreyImage | null = null;
  private recent: { readonly tNs: bigint; readonly grey: Float32Array }[] = [];
  private decisions = 0;
  private reuses = 0;
  private batterySeen: number | null = null;

  constructor(
    private readonly run: PolicyRun,
    private readonly info: ResolutionModelInfo,
  ) {}

  async decide(input: PolicyInput): Promise<SegmentationDecision> {
    const action = await this.choose(input, true);
    if (action.kind === 'scale') {
      if (this.info.reuseWarps) this.keyWork = workingFrame(input.scene);
      return { run: true, scale: action.scale, ...this.modelTag() };
    }
    const scale = input.last?.scale ?? 1;
    const current = this.keyWork ? workingFrame(input.scene) : null;
    const flow = current && this.keyWork ? denseFlow(current, this.keyWork) : undefined;
    return { run: false, scale, ...(flow ? { flow } : {}), ...this.modelTag() };
  }

  /**
   * The policy's action for this frame; with `allowReuse` false (another policy already chose to run the
   * network) reuse is masked and the best scale wins. A scale action makes this frame the key.
   */
  async choose(input: PolicyInput, allowReuse: boolean): Promise<ResolutionAction> {
    const grey = featureGrey(input.scene);
    const frameNs = 1e9 / this.info.fps;
    const battery = input.battery ?? DEFAULT_BATTERY;
    this.batterySeen = input.battery ?? null;
    const key: FeatureKey | null =
      this.key && input.last
        ? { grey: this.key.grey, age: Number(input.tNs - this.key.tNs) / frameNs, last: input.last }
        : null;
    const state = resolutionState(grey, this.previous(input.tNs, frameNs), key, battery);
    const result = await this.run({ [this.info.inputName]: new ort.Tensor('float32', state, [1, state.length]) });
    this.model = result.model;
    const logits = result.outputs[this.info.outputName];
    if (!logits || !(logits.data instanceof Float32Array) || logits.data.length !== this.info.actions.length) {
      throw new Error(`resolution policy: no float32 ${this.info.outputName} with ${this.info.actions.length} scores`);
    }
    const canReuse = allowReuse && key !== null && key.age <= MAX_AGE + 1e-6;
    let best = -1;
    for (let a = 0; a < this.info.actions.length; a++) {
      if (this.info.actions[a]?.kind === 'reuse' && !canReuse) continue;
      if (best < 0 || (logits.data[a] as number) > (logits.data[best] as number)) best = a;
    }
    const action = this.info.actions[best];
    if (!action) throw new Error('resolution policy: no action left once reuse is masked (no scale among its outputs)');
    this.decisions++;
    if (action.kind === 'reuse') this.reuses++;
    else this.key = { tNs: input.tNs, grey };
    this.remember(input.tNs, grey, frameNs);
    return action;
  }

  /** A frame another policy decided not to segment: only "the previous frame" moves on. */
  observe(input: PolicyInput): void {
    this.remember(input.tNs, featureGrey(input.scene), 1e9 / this.info.fps);
  }

  stats(): Record<string, number | string | null> {
    return {
      decisions: this.decisions,
      reuseShare: this.decisions === 0 ? 0 : Math.round((this.reuses / this.decisions) * 1000) / 1000,
      model: this.model ?? null,
      battery: this.batterySeen,
    };
  }

  /** The remembered frame closest to one training frame before `tNs` (null on the first frame). */
  private previous(tNs: bigint, frameNs: number): Float32Array | null {
    let best: Float32Array | null = null;
    let bestErr = Number.POSITIVE_INFINITY;
    for (const r of this.recent) {
      const err = Math.abs(Number(tNs - r.tNs) - frameNs);
      if (r.tNs < tNs && err < bestErr) {
        best = r.grey;
        bestErr = err;
      }
    }
    return best;
  }

  private remember(tNs: bigint, grey: Float32Array, frameNs: number): void {
    this.recent.push({ tNs, grey });
    this.recent = this.recent.filter((r) => Number(tNs - r.tNs) <= PREV_WINDOW * frameNs);
  }

  private modelTag(): { model?: string } {
    return this.model ? { model: this.model } : {};
  }
}
