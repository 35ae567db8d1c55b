import { createEyeTrackingStages, type SceneIntrinsics } from '../calibration/index.ts';
import type { ModelRegistry } from '../models/registry.ts';
import { createSegmentationStage, type SegmentationView } from '../pipelines/segmentation/index.ts';
import type { MomentEvent } from '../pipelines/snippets/recorder.ts';
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

/** The region the wearer attends to at a scene frame, as the attention stage estimated it. */
export interface AttendedRegion {
  readonly tNs: bigint;
  /** x, y, w, h in scene pixels. */
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  /** The attention event this frame belongs to, when it is inside one. */
  readonly eventId: number | null;
}

/** The attention stage's latest output, for stages after it (emotion cause, faces, snippet crops). */
export interface AttentionView {
  latest(): AttendedRegion | null;
}

/**
 * Moments worth a snippet (attention episodes, strong emotions): stages emit, the snippet recorder listens.
 * Listeners run synchronously in emit order, so a moment reaches the recorder before the next frame does.
 */
export class MomentBus {
  private readonly listeners: ((m: MomentEvent) => void)[] = [];

  subscribe(listener: (m: MomentEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(moment: MomentEvent): void {
    for (const l of this.listeners) l(moment);
  }
}

/** What the stages share along one pipeline; each later stage reads what an earlier one wrote. */
export interface StageContext {
  readonly gaze: GazeTrack;
  readonly moments: MomentBus;
  /** Set when the attention stage runs. */
  attention?: AttentionView;
  /** Set when the segmentation stage runs (config `segmentation.enabled`): the latest scene label map. */
  segmentation?: SegmentationView;
}

/**
 * The daemon's stages in pipeline order. Order is the data flow: eye tracking produces gaze before anything that
 * reads it (attention, emotion, snippets) sees the same frame.
 */
export async function buildStages(deps: StageDeps): Promise<{ stages: Stage[]; context: StageContext }> {
  const context: StageContext = { gaze: new GazeTrack(), moments: new MomentBus() };
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
  if (deps.config.segmentation.enabled) {
    // Before attention and emotion: they read the scene's classes at the gaze point.
    const segmentation = await createSegmentationStage(await deps.models(), deps.config.segmentation);
    context.segmentation = segmentation;
    stages.push(segmentation);
  }
  return { stages, context };
}
