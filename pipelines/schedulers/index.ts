/**
 * Schedulers decide, per scene frame, whether the segmentation network runs (a key frame) or the last key result
 * is propagated by optical flow. The face of the folder:
 *
 *   const policy = await createKeyFrameScheduler(deps.models);      // the zoo's `keyframe` policy
 *   const d = await policy.decide({ index, tNs, scene: sceneMat, last });   // the one SegmentationPolicy contract
 *   const labels = d.run ? runNetwork() : warpLabels(lastKeyLabels, d.flow!);
 *   policy.noteModelRun(networkMs);                                   // on key frames: feeds stats().modelMsSaved
 */
import type { ModelRegistry } from '../../models/registry.ts';
import { KEY_FRAME_DEFAULTS, type KeyFrameParams, KeyFrameScheduler } from './key-frame-scheduler.ts';

export type { PolicyInput, SegmentationDecision, SegmentationPolicy } from '../segmentation/policy.ts';
export { FixedRateScheduler, type GreyScheduler, ThresholdScheduler } from './baselines.ts';
export { type Flow, type LabelMap, warpLabels } from './flow/index.ts';
export { KeyFrameScheduler, type KeyFrameStats } from './key-frame-scheduler.ts';

/** The RL key scheduler on the registry's serving `keyframe` model (loaded here if it is not yet). */
export async function createKeyFrameScheduler(
  models: () => Promise<ModelRegistry>,
  params: KeyFrameParams = KEY_FRAME_DEFAULTS,
): Promise<KeyFrameScheduler> {
  const registry = await models();
  if (registry.status().keyframe?.serving === undefined) {
    const [outcome] = await registry.start(['keyframe']);
    if (!outcome?.ok) throw new Error(`keyframe policy not available: ${outcome ? outcome.reason : 'no model'}`);
  }
  return new KeyFrameScheduler((feeds) => registry.run('keyframe', feeds), params);
}
