/**
 * Eye tracking for the daemon: pupil detection, gaze calibration and mapping, slippage correction, fixations
 * and blinks. The daemon mounts `eyeTrackingConfigSchema` as the `eyeTracking` config section and adds the
 * stages this returns to its frame pipeline; `glance calibrate` lives in device/commands/calibrate.ts.
 *
 *   const stages = createEyeTrackingStages({ db, sessionId, config: config.eyeTracking, logger, sceneCamera });
 *   new FramePipeline(sessionId, pairer, rows, metrics, [...stages, ...otherStages]);
 *
 * Order matters: these stages come before any stage that reads gaze_samples, and in the order returned.
 */
import type { GazeTrack } from '../device/gaze-track.ts';
import type { Logger } from '../device/logger.ts';
import type { Stage } from '../device/pipeline.ts';
import type { Db } from '../storage/db.ts';
import type { EyeTrackingConfig } from './config.ts';
import type { SceneIntrinsics } from './intrinsics/scene-camera.ts';
import type { AsyncPupilDetector } from './pupil/types.ts';
import { EyeTrackingContext } from './stages/context.ts';
import { EyeEventsStage } from './stages/eye-events-stage.ts';
import { GazeStage } from './stages/gaze-stage.ts';
import { PupilStage } from './stages/pupil-stage.ts';

export { defaultEyeTrackingConfig, type EyeTrackingConfig, eyeTrackingConfigSchema } from './config.ts';
export type { SceneIntrinsics } from './intrinsics/scene-camera.ts';
export { readSessionIntrinsics } from './intrinsics/session-intrinsics.ts';

export interface EyeTrackingDeps {
  readonly db: Db;
  readonly sessionId: string;
  readonly config: EyeTrackingConfig;
  readonly logger: Logger;
  /** Scene-camera intrinsics when the caller knows them (a recorded session's `sceneCamera`). */
  readonly sceneCamera?: SceneIntrinsics;
  /** Receives every gaze point for the stages that come after eye tracking. */
  readonly track?: GazeTrack;
  /** The learnt pupil detector, when `detector.type` is `cnn` (built by the caller, who holds the registry). */
  readonly learntPupil?: AsyncPupilDetector;
}

/** The eye-tracking stages, in pipeline order: pupil → gaze → eye-events. Empty when disabled. */
export function createEyeTrackingStages(deps: EyeTrackingDeps): Stage[] {
  if (!deps.config.enabled) return [];
  const context = new EyeTrackingContext();
  return [
    new PupilStage(deps.config, context, deps.learntPupil),
    new GazeStage({ ...deps, context }),
    new EyeEventsStage(deps.db, deps.sessionId, deps.config, context),
  ];
}
