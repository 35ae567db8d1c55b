/**
 * EMOShip on the device: the wearer's emotion from the eye camera and its cause from the attended scene.
 *
 *   const stages = await createEmotionStages({ db, sessionId, config: config.emotion, detector, logger, models,
 *     context });
 *
 * Writes `emotionship` rows (storage/emotionship.ts) with their outbox rows; strong episodes become moments on
 * `context.moments`. Absent (no stage) when disabled or when its model is not in the models directory.
 */
import type { EyeTrackingConfig } from '../../calibration/config.ts';
import type { GazeTrack } from '../../device/gaze-track.ts';
import type { Logger } from '../../device/logger.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { AttentionView } from '../../device/stages.ts';
import type { ModelRegistry } from '../../models/registry.ts';
import type { Db } from '../../storage/db.ts';
import { EmotionshipRepository } from '../../storage/emotionship.ts';
import { PersonalHeadRepository } from '../../storage/personal-heads.ts';
import type { MomentEvent } from '../snippets/recorder.ts';
import type { SegmentationView } from './cause.ts';
import type { EmotionConfig } from './config.ts';
import { emotionModelIo } from './model-io.ts';
import { EmotionStage } from './stage.ts';

export type { SegmentationView } from './cause.ts';
export { type EmotionConfig, emotionConfigSchema } from './config.ts';

export interface EmotionContext {
  readonly gaze: GazeTrack;
  readonly moments: { emit(m: MomentEvent): void };
  readonly attention?: AttentionView;
  readonly segmentation?: SegmentationView;
}

export interface EmotionStageOptions {
  readonly db: Db;
  readonly sessionId: string;
  readonly config: EmotionConfig;
  readonly detector: EyeTrackingConfig['detector'];
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly models: () => Promise<ModelRegistry>;
  readonly context: EmotionContext;
}

export async function createEmotionStages(opts: EmotionStageOptions): Promise<Stage[]> {
  const { config, logger } = opts;
  if (!config.enabled) return [];
  const registry = await opts.models();
  if (!registry.servingModel(config.model)) await registry.start([config.model]);
  const serving = registry.servingModel(config.model);
  if (!serving) {
    logger.warn({ model: config.model }, 'emotion stage off: its model is not installed or did not load');
    return [];
  }
  const io = emotionModelIo(serving.manifest);
  const ort = await import('onnxruntime-node');
  const heads = new PersonalHeadRepository(opts.db);
  const ctx = opts.context;
  logger.info({ model: serving.id, rateHz: config.rateHz, scene: io.withScene }, 'emotion stage on');
  return [
    new EmotionStage({
      sessionId: opts.sessionId,
      config,
      io,
      run: (feeds) => registry.run(config.model, feeds),
      makeTensor: (data, dims) => new ort.Tensor('float32', data, dims),
      repo: new EmotionshipRepository(opts.db),
      gaze: ctx.gaze,
      emitMoment: (m) => ctx.moments.emit(m),
      detectorConfig: opts.detector,
      // The attended region only inside an attention episode: outside one, TVA's box is its guess at nothing in
      // particular, and the object at the gaze is the better cause.
      attention: {
        latest: () => {
          const a = ctx.attention?.latest() ?? null;
          return a !== null && a.eventId !== null ? a : null;
        },
      },
      ...(ctx.segmentation ? { segmentation: ctx.segmentation } : {}),
      personalHead: () => heads.active(config.model),
    }),
  ];
}
