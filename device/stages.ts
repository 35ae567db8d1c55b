import { createEyeTrackingStages, type SceneIntrinsics } from '../calibration/index.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { Db } from '../storage/db.ts';
import type { Config } from './config.ts';
import { GazeTrack } from './gaze-track.ts';
import type { Logger } from './logger.ts';
import type { Stage } from './pipeline.ts';

/** Everything a stage may be built from; the daemon fills it in, tests and benchmarks build their own. */
export interface StageDeps {
  readonly db: Db;
  readonly sessionId: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly sceneCamera?: SceneIntrinsics;
  /** Opens the model registry on first use: a build whose stages run no model never loads onnxruntime. */
  readonly models: () => Promise<ModelRegistry>;
}

/** What the stages share along one pipeline; each later stage reads what an earlier one wrote. */
export interface StageContext {
  readonly gaze: GazeTrack;
}

/**
 * The daemon's stages in pipeline order. Order is the data flow: eye tracking produces gaze before anything that
 * reads it (attention, emotion, snippets) sees the same frame.
 */
export async function buildStages(deps: StageDeps): Promise<{ stages: Stage[]; context: StageContext }> {
  const context: StageContext = { gaze: new GazeTrack() };
  const stages: Stage[] = [
    ...createEyeTrackingStages({
      db: deps.db,
      sessionId: deps.sessionId,
      config: deps.config.eyeTracking,
      logger: deps.logger,
      track: context.gaze,
      ...(deps.sceneCamera ? { sceneCamera: deps.sceneCamera } : {}),
    }),
  ];
  return { stages, context };
}
