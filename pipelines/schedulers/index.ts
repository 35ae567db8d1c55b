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
import { ResolutionPolicy, resolutionModelInfo } from './resolution-policy.ts';

export type { PolicyInput, SegmentationDecision, SegmentationPolicy } from '../segmentation/policy.ts';
export { FixedRateScheduler, type GreyScheduler, ThresholdScheduler } from './baselines.ts';
export { type Flow, type LabelMap, warpLabels } from './flow/index.ts';
export { KeyFrameAndResolutionPolicy } from './key-frame-and-resolution.ts';
export { KeyFrameScheduler, type KeyFrameStats } from './key-frame-scheduler.ts';
export { DEFAULT_BATTERY, featureGrey, RESOLUTION_FEATURES, resolutionState } from './resolution-features.ts';
export { type ResolutionAction, ResolutionPolicy, resolutionModelInfo } from './resolution-policy.ts';

/** The RL key scheduler on the registry's serving `keyframe` model (loaded here if it is not yet). */
export async function createKeyFrameScheduler(
  models: () => Promise<ModelRegistry>,
  params: KeyFrameParams = KEY_FRAME_DEFAULTS,
): Promise<KeyFrameScheduler> {
  const registry = await serving(models, 'keyframe');
  return new KeyFrameScheduler((feeds) => registry.run('keyframe', feeds), params);
}

/** The RL resolution policy on the registry's serving `resolution-policy` model (whatever version it serves). */
export async function createResolutionPolicy(models: () => Promise<ModelRegistry>): Promise<ResolutionPolicy> {
  const name = 'resolution-policy';
  const registry = await serving(models, name);
  const manifest = registry.servingModel(name)?.manifest;
  if (!manifest) throw new Error(`${name} is not serving`);
  return new ResolutionPolicy((feeds) => registry.run(name, feeds), resolutionModelInfo(manifest));
}

/** The registry with `name` serving, loading its preferred version if nothing serves it yet. */
async function serving(models: () => Promise<ModelRegistry>, name: string): Promise<ModelRegistry> {
  const registry = await models();
  if (registry.status()[name]?.serving === undefined) {
    const [outcome] = await registry.start([name]);
    if (!outcome?.ok) throw new Error(`${name} policy not available: ${outcome ? outcome.reason : 'no model'}`);
  }
  return registry;
}
