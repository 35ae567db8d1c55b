import { createEyeTrackingStages, type SceneIntrinsics } from '../calibration/index.ts';
import type { ModelRegistry } from '../models/registry.ts';
import { createEmotionStages } from '../pipelines/emotion/index.ts';
import { createFacesStage } from '../pipelines/faces/index.ts';
import { telemetryBattery } from '../pipelines/segmentation/battery.ts';
import {
  createSegmentationStage,
  FixedIntervalPolicy,
  type SceneDecision,
  type SegmentationPolicy,
  type SegmentationView,
} from '../pipelines/segmentation/index.ts';
import type { CaptureState } from '../pipelines/snippets/capture-state.ts';
import { retentionPolicyOf } from '../pipelines/snippets/config.ts';
import { type MomentEvent, SnippetRecorder } from '../pipelines/snippets/recorder.ts';
import { SnippetStage } from '../pipelines/snippets/snippet-stage.ts';
import type { Db } from '../storage/db.ts';
import { SnippetRepository } from '../storage/snippets.ts';
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
  /** name@version of every model serving now, for the records that carry them. */
  readonly modelsInUse: () => readonly string[];
  /** Pause/resume and recording blocks; snippets are written only while it allows. */
  readonly capture: CaptureState;
}

/** The region the wearer attends to at a scene frame, as the attention stage estimated it. */
export interface AttendedRegion {
  readonly tNs: bigint;
  /** x, y, w, h in scene pixels. */
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  /** Ordinal (1, 2, …) of the attention episode this frame belongs to in the session, when it is inside one. */
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
  /**
   * The current scene frame's decision (run the networks, or reuse their last results), written by the
   * segmentation stage before later stages see the frame. Set only when `segmentation.policy` is not `fixed`:
   * then it is one decision for the whole pipeline and attention follows it.
   */
  sceneDecision?: SceneDecision;
}

/**
 * The daemon's stages in pipeline order. Order is the data flow: eye tracking produces gaze before anything that
 * reads it (attention, emotion, snippets) sees the same frame.
 */
export async function buildStages(deps: StageDeps): Promise<{ stages: Stage[]; context: StageContext }> {
  const context: StageContext = { gaze: new GazeTrack(), moments: new MomentBus() };
  const eyeTracking = deps.config.eyeTracking;
  const detector = eyeTracking.detector;
  const stages: Stage[] = [
    ...createEyeTrackingStages({
      db: deps.db,
      sessionId: deps.sessionId,
      config: eyeTracking,
      logger: deps.logger,
      track: context.gaze,
      ...(deps.sceneCamera ? { sceneCamera: deps.sceneCamera } : {}),
      ...(eyeTracking.enabled && detector.type === 'cnn'
        ? { learntPupil: await learntPupilDetector(deps, detector.model, detector.minOpen) }
        : {}),
    }),
  ];
  if (deps.config.segmentation.enabled) {
    // Before attention and emotion: they read the scene's classes at the gaze point.
    const config = deps.config.segmentation;
    const segmentation = await createSegmentationStage(await deps.models(), config, await segmentationPolicy(deps), {
      battery: telemetryBattery(deps.db, deps.sessionId),
      ...(config.policy === 'fixed'
        ? {}
        : {
            onDecision: (d: SceneDecision) => {
              context.sceneDecision = d;
            },
          }),
    });
    context.segmentation = segmentation;
    stages.push(segmentation);
  }
  if (deps.config.attention.enabled) stages.push(await attentionStage(deps, context));
  // After eye tracking (it reads the gaze) and after attention/segmentation when they run (the cause).
  stages.push(
    ...(await createEmotionStages({
      db: deps.db,
      sessionId: deps.sessionId,
      config: deps.config.emotion,
      detector: deps.config.eyeTracking.detector,
      logger: deps.logger,
      models: deps.models,
      context: emotionContext(context),
    })),
  );
  if (deps.config.faces.enabled) {
    stages.push(
      await createFacesStage({
        db: deps.db,
        dataDir: deps.config.device.dataDir,
        sessionId: deps.sessionId,
        config: deps.config.faces,
        models: deps.models,
      }),
    );
  }
  // Last: it records what the stages before it decided (their moments) and the frame as it was.
  if (deps.config.snippets.enabled) stages.push(snippetStage(deps, context));
  return { stages, context };
}

/** The configured per-frame policy of the segmentation stage (the learnt ones load their zoo models). */
async function segmentationPolicy(deps: StageDeps): Promise<SegmentationPolicy> {
  const c = deps.config.segmentation;
  if (c.policy === 'fixed') return new FixedIntervalPolicy(c.everyNthFrame, c.scale);
  // Imported here: the schedulers (flow, policies) are needed only when a learnt policy is configured.
  const schedulers = await import('../pipelines/schedulers/index.ts');
  if (c.policy === 'keyframe') return schedulers.createKeyFrameScheduler(deps.models);
  if (c.policy === 'resolution') return schedulers.createResolutionPolicy(deps.models);
  return new schedulers.KeyFrameAndResolutionPolicy(
    await schedulers.createKeyFrameScheduler(deps.models),
    await schedulers.createResolutionPolicy(deps.models),
  );
}

/**
 * The emotion stage's view of the shared context. Segmentation answers with the latest label map's class (the
 * map is at most `everyNthFrame` scene frames old) and no per-pixel confidence, so its cause score is 1.
 */
function emotionContext(context: StageContext) {
  const seg = context.segmentation;
  return {
    ...context,
    segmentation: seg && {
      classAt: (_tNs: bigint, x: number, y: number) => {
        const label = seg.classAt(x, y);
        return label === null ? null : { label, score: 1 };
      },
    },
  };
}

async function attentionStage(deps: StageDeps, context: StageContext): Promise<Stage> {
  // Imported here: the attention stage loads onnxruntime, which a build without it should not pay for.
  const { createAttentionStage } = await import('../pipelines/attention/index.ts');
  const { attention } = deps.config;
  const run = await modelRunner(deps, attention.model);
  const stage = createAttentionStage({
    db: deps.db,
    sessionId: deps.sessionId,
    config: attention,
    registry: await deps.models(),
    run,
    gaze: context.gaze,
    moments: context.moments,
    logger: deps.logger,
    // One decision for the whole pipeline: on a frame the scene policy reuses, attention reuses its last output.
    ...(context.segmentation && deps.config.segmentation.policy !== 'fixed'
      ? { sceneDecision: () => context.sceneDecision }
      : {}),
  });
  context.attention = stage.view;
  return stage;
}

function snippetStage(deps: StageDeps, context: StageContext): Stage {
  const c = deps.config.snippets;
  const a = deps.config.attention;
  // Scene frames until an attention episode is confirmed, which it is dated back over.
  const lag = a.enabled ? (a.startFrames * a.everyNthFrame) / c.fps : 0;
  let anchor: { tNs: bigint; wallMs: number } | undefined;
  const recorder = new SnippetRecorder({
    settings: {
      preSeconds: c.preSeconds,
      postSeconds: c.postSeconds,
      maxSeconds: c.maxSeconds,
      width: c.width,
      fps: c.fps,
      crop: c.gazeCrop,
      momentLagSeconds: lag,
      retention: retentionPolicyOf(c.retention),
    },
    dataDir: deps.config.device.dataDir,
    sessionId: deps.sessionId,
    repo: new SnippetRepository(deps.db, deps.config.device.dataDir),
    capture: deps.capture,
    logger: deps.logger,
    // The frame clock is monotonic (or a recording's own); wall time is anchored at the first frame asked about.
    wallMsAt: (tNs) => {
      anchor ??= { tNs, wallMs: Date.now() };
      return anchor.wallMs + Number(tNs - anchor.tNs) / 1e6;
    },
    models: deps.modelsInUse,
  });
  return new SnippetStage(recorder, context);
}

/**
 * Inference through the registry for `name`, loading its preferred version first when nothing serves it yet.
 * A model that cannot be loaded stops the start with the registry's reason (a stage without its model is absent,
 * never a stand-in).
 */
export async function modelRunner(deps: StageDeps, name: string): Promise<ModelRun> {
  const registry = await deps.models();
  if (!registry.servingModel(name)) {
    const [outcome] = await registry.start([name]);
    if (outcome === undefined) throw new Error(`model ${name}: no version of it in ${registry.dir}`);
    if (!outcome.ok) throw new Error(`model ${outcome.model}: refused at ${outcome.stage}: ${outcome.reason}`);
  }
  return (feeds) => registry.run(name, feeds);
}

export type ModelRun = (feeds: Parameters<ModelRegistry['run']>[1]) => ReturnType<ModelRegistry['run']>;

async function learntPupilDetector(deps: StageDeps, model: string, minOpen: number) {
  // Imported here so a daemon on the classical detector never loads onnxruntime.
  const { createAsyncPupilDetector } = await import('../calibration/pupil/create-async-detector.ts');
  const run = await modelRunner(deps, model);
  return createAsyncPupilDetector({ type: 'cnn', model, minOpen }, run);
}
