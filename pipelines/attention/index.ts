/**
 * MemX attention for the daemon (device/stages.ts builds it). The model's input geometry comes from its manifest,
 * so a retrained TVA with another input size or history length needs no code change here.
 */

import type { GazeTrack } from '../../device/gaze-track.ts';
import type { Logger } from '../../device/logger.ts';
import type { ModelRun, MomentBus } from '../../device/stages.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import { AttentionEventRepository } from '../../storage/attention-events.ts';
import type { Db } from '../../storage/db.ts';
import type { SceneDecision } from '../segmentation/policy.ts';
import { AttentionStage } from './attention-stage.ts';
import type { AttentionConfig } from './config.ts';
import { TVA_DEFAULT_GEOMETRY, type TvaGeometry, TvaInput } from './tva-input.ts';

export { AttentionStage } from './attention-stage.ts';
export { type AttentionConfig, attentionConfigSchema } from './config.ts';

export function createAttentionStage(deps: {
  readonly db: Db;
  readonly sessionId: string;
  readonly config: AttentionConfig;
  readonly registry: ModelRegistry;
  readonly run: ModelRun;
  readonly gaze: GazeTrack;
  readonly moments: MomentBus;
  readonly logger: Logger;
  /** The pipeline-wide scene decision (StageContext.sceneDecision), when a scene policy other than fixed runs. */
  readonly sceneDecision?: () => SceneDecision | undefined;
}): AttentionStage {
  const geometry = geometryOf(deps.registry, deps.config.model);
  return new AttentionStage({
    sessionId: deps.sessionId,
    config: deps.config,
    geometry,
    input: new TvaInput(geometry, deps.gaze),
    run: deps.run,
    events: new AttentionEventRepository(deps.db),
    moments: deps.moments,
    logger: deps.logger,
    ...(deps.sceneDecision ? { sceneDecision: deps.sceneDecision } : {}),
  });
}

/** Input size, frame lag and gaze history length of the serving TVA version. */
function geometryOf(registry: ModelRegistry, name: string): TvaGeometry {
  const manifest = registry.servingModel(name)?.manifest;
  const scene = manifest?.inputs.find((i) => i.name === 'scene');
  const gaze = manifest?.inputs.find((i) => i.name === 'gaze');
  const dim = (shape: readonly unknown[] | undefined, i: number, fallback: number) =>
    typeof shape?.[i] === 'number' ? (shape[i] as number) : fallback;
  // The exporter may put lagFrames beside the shape or inside the normalisation block.
  const lag = (scene as { lagFrames?: unknown } | undefined)?.lagFrames ?? scene?.normalisation?.lagFrames;
  return {
    width: dim(scene?.shape, 3, TVA_DEFAULT_GEOMETRY.width),
    height: dim(scene?.shape, 2, TVA_DEFAULT_GEOMETRY.height),
    lagFrames: typeof lag === 'number' ? lag : TVA_DEFAULT_GEOMETRY.lagFrames,
    gazeSteps: dim(gaze?.shape, 1, TVA_DEFAULT_GEOMETRY.gazeSteps),
  };
}
