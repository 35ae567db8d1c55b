import type { Frame } from '../../device/frames.ts';
import type { GazeTrack } from '../../device/gaze-track.ts';
import type { Logger } from '../../device/logger.ts';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { BatchWriter } from '../../storage/batch-writer.ts';
import type { Db } from '../../storage/db.ts';
import { GazeCalibrationRepository } from '../../storage/gaze-calibrations.ts';
import { type GazeSampleRow, gazeSampleWriter } from '../../storage/gaze-samples.ts';
import type { EyeTrackingConfig } from '../config.ts';
import { type EyeId, Gazer2D, type GazerParams } from '../gaze/gazer.ts';
import { SceneCamera, type SceneIntrinsics } from '../intrinsics/scene-camera.ts';
import { AutoCalibration } from '../session/auto-calibration.ts';
import { pupilPoint } from '../session/pairing.ts';
import type { PupilSample } from '../session/pupil-sample.ts';
import { SlippageCompensator } from '../slippage/slippage-compensator.ts';
import type { EyeTrackingContext } from './context.ts';
import { resolveSceneCamera } from './scene-camera-source.ts';

export interface GazeStageDeps {
  readonly db: Db;
  readonly sessionId: string;
  readonly config: EyeTrackingConfig;
  readonly logger: Logger;
  readonly sceneCamera?: SceneIntrinsics;
  readonly context: EyeTrackingContext;
  /** Where later stages (attention, emotion, snippets) read the gaze from. */
  readonly track?: GazeTrack;
}

/**
 * Maps every confident pupil to gaze through the wearer's active calibration (binocularly when the other eye has
 * a pupil close in time), with the slippage correction, and writes gaze_samples in batches. A session that opens
 * with the calibration marker calibrates itself first (pupils seen meanwhile are kept and mapped once it exists);
 * a failed or poor calibration is stored with its reason and the previous one stays active.
 */
export class GazeStage implements Stage {
  readonly name = 'gaze';
  private readonly calibrations: GazeCalibrationRepository;
  private readonly rows: BatchWriter<GazeSampleRow>;
  private gazer: Gazer2D | null = null;
  private slippage: SlippageCompensator | null = null;
  private auto: AutoCalibration | null;
  private pending: PupilSample[] = [];
  private readonly confident: Partial<Record<EyeId, PupilSample>> = {};
  private sceneFor: SceneCamera | null = null;

  constructor(private readonly deps: GazeStageDeps) {
    this.calibrations = new GazeCalibrationRepository(deps.db);
    this.rows = gazeSampleWriter(deps.db);
    this.auto = deps.config.calibration.auto === 'session-start' ? new AutoCalibration(deps.config) : null;
    const active = this.calibrations.active(deps.config.wearer);
    if (active !== undefined) this.activate(active.mapping as GazerParams, `stored calibration #${active.id}`);
  }

  /**
   * Starts a single-marker calibration now (the phone's `calibrate` command): the wearer looks at the printed
   * marker while moving the head, and the new mapping replaces the active one only if it validates.
   */
  recalibrate(): void {
    this.auto = new AutoCalibration(this.deps.config);
  }

  onEyeFrame(frame: Frame): void {
    if (frame.stream === 'scene') return;
    const s = this.deps.context.pupilFor(frame.stream, frame.index);
    if (s === undefined) return;
    this.auto?.addPupil(s);
    if (this.gazer !== null) this.map(s);
    else if (this.auto !== null && (this.auto.state === 'searching' || this.auto.state === 'collecting')) this.keep(s);
  }

  onScene(paired: PairedScene): void {
    const frame = paired.scene;
    this.sceneFor ??= resolveSceneCamera(
      this.deps.db,
      this.deps.sessionId,
      this.deps.sceneCamera,
      frame.width,
      frame.height,
      this.deps.config.sceneFallbackHfovDeg,
    ).camera;
    if (this.auto === null || (this.auto.state !== 'searching' && this.auto.state !== 'collecting')) return;
    if (this.auto.addScene(frame.tNs, frame.mat, this.sceneFor)) this.completeCalibration();
    else if (this.auto.gaveUp) {
      this.deps.logger.info({ kept: this.pending.length }, 'no calibration marker at the start of the session');
      if (this.gazer === null) this.pending = [];
    }
  }

  finish(): void {
    if (this.auto?.state === 'collecting') this.completeCalibration();
    this.rows.flush();
    for (const s of this.slippage?.status() ?? []) {
      this.deps.logger.info(
        { eye: s.eye, estimatePx: s.estimatePx, appliedPx: s.appliedPx },
        'slippage at end of session',
      );
    }
  }

  private completeCalibration(): void {
    const outcome = this.auto?.finish() ?? null;
    if (outcome === null) return;
    const id = this.calibrations.save({
      wearer: this.deps.config.wearer,
      sessionId: this.deps.sessionId,
      method: 'single-marker',
      accepted: outcome.ok,
      mapping: outcome.mapping,
      accuracyDeg: outcome.report.accuracyDeg,
      precisionDeg: outcome.report.precisionDeg,
      reason: outcome.reason ?? null,
      report: outcome.report,
    });
    const { accuracyDeg, precisionDeg } = outcome.report;
    if (outcome.ok && outcome.mapping !== null) {
      this.deps.logger.info({ calibration: id, accuracyDeg, precisionDeg }, 'calibrated from the session marker');
      this.activate(outcome.mapping, `calibration #${id}`);
    } else {
      this.deps.logger.warn(
        { calibration: id, reason: outcome.reason, accuracyDeg },
        'calibration rejected; the previous one stays active',
      );
    }
    const kept = this.pending;
    this.pending = [];
    if (this.gazer !== null) for (const s of kept) this.map(s);
  }

  private activate(mapping: GazerParams, label: string): void {
    try {
      this.gazer = Gazer2D.fromParams(mapping);
    } catch (error) {
      this.deps.logger.error({ err: error }, `${label} cannot be used`);
      return;
    }
    this.deps.context.scene = new SceneCamera(mapping.scene);
    const refs: Partial<Record<EyeId, readonly [number, number]>> = {};
    for (const [eye, n] of Object.entries(mapping.normalisers) as [EyeId, (typeof mapping.normalisers)[EyeId]][]) {
      if (n?.kind === 'eye-model') refs[eye] = n.centre;
    }
    const { slippage, calibration } = this.deps.config;
    this.slippage = slippage.enabled
      ? new SlippageCompensator(refs, { ...slippage, minConfidence: calibration.minConfidence })
      : null;
  }

  /** Kept while the first calibration is collected, up to the configured span. */
  private keep(s: PupilSample): void {
    this.pending.push(s);
    const horizon = s.tNs - BigInt(Math.round(this.deps.config.gaze.bufferS * 1e9));
    let drop = 0;
    while (drop < this.pending.length && (this.pending[drop] as PupilSample).tNs < horizon) drop++;
    if (drop > 0) this.pending.splice(0, drop);
  }

  private map(s: PupilSample): void {
    const g = this.gazer as Gazer2D;
    const cfg = this.deps.config.gaze;
    this.slippage?.observe(s.eye, s.tNs, s.ellipse, s.confidence);
    for (const e of this.slippage?.drainEvents() ?? []) {
      // A corrected slip is routine; one too large to trust the correction needs the wearer.
      if (e.kind === 'recalibrate') this.deps.logger.warn(e, 'slippage: recalibration needed');
      else this.deps.logger.info(e, `slippage: ${e.kind}`);
    }
    if (s.ellipse === null || s.confidence < cfg.minConfidence) {
      delete this.confident[s.eye];
      return;
    }
    this.confident[s.eye] = s;
    const other = this.confident[s.eye === 'eye0' ? 'eye1' : 'eye0'];
    const near =
      other !== undefined && Math.abs(Number(other.tNs - s.tNs)) / 1e6 <= cfg.maxBinocularDtMs ? other : undefined;
    const e0 = s.eye === 'eye0' ? s : near;
    const e1 = s.eye === 'eye1' ? s : near;
    const shift = {
      eye0: this.slippage?.shift('eye0') ?? [0, 0],
      eye1: this.slippage?.shift('eye1') ?? [0, 0],
    } as const;
    const gaze = g.predict(e0 && pupilPoint(e0), e1 && pupilPoint(e1), shift);
    if (gaze === null || !Number.isFinite(gaze.point.x) || !Number.isFinite(gaze.point.y)) return;
    const confidence = Math.min(e0?.confidence ?? 1, e1?.confidence ?? 1);
    this.rows.add({
      sessionId: this.deps.sessionId,
      tNs: s.tNs,
      eye: gaze.source,
      x: gaze.point.x,
      y: gaze.point.y,
      confidence,
      pupilDiameterPx: s.ellipse.major,
    });
    this.deps.context.queueGaze({ tNs: s.tNs, x: gaze.point.x, y: gaze.point.y, confidence, source: gaze.source });
    this.deps.track?.push({ tNs: s.tNs, x: gaze.point.x, y: gaze.point.y, confidence });
  }
}
