/**
 * The recent steps the emotion model reads: per step an eye crop, the pupil (normalised, held over low
 * confidence) and the scene crop at the gaze. Kept as a ring a little longer than the model's window, so the cause
 * of an episode can look back `causeWindowS` before its onset.
 */
import type { CauseStep } from './cause.ts';

export interface StepShape {
  readonly steps: number;
  readonly size: number;
  readonly pupilMeanMm: number;
  readonly pupilStdMm: number;
  readonly holdBelow: number;
}

export interface Step extends CauseStep {
  readonly eye: Float32Array;
  readonly scene: Float32Array | null;
  readonly pupil: readonly [number, number];
}

export class StepWindow {
  private readonly ring: Step[] = [];
  private heldMm: number | null = null;

  constructor(
    readonly shape: StepShape,
    private readonly capacity: number,
  ) {}

  /** The normalised pupil input of a measurement: below the confidence floor, the last good diameter. */
  pupilInput(diameterMm: number | null, confidence: number): readonly [number, number] {
    if (diameterMm !== null && confidence >= this.shape.holdBelow) this.heldMm = diameterMm;
    const mm = this.heldMm ?? this.shape.pupilMeanMm;
    return [(mm - this.shape.pupilMeanMm) / this.shape.pupilStdMm, confidence];
  }

  push(step: Step): void {
    this.ring.push(step);
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  get full(): boolean {
    return this.ring.length >= this.shape.steps;
  }

  /** The newest `steps` steps, oldest first. */
  latest(): Step[] {
    return this.ring.slice(-this.shape.steps);
  }

  all(): readonly Step[] {
    return this.ring;
  }

  /** Model feeds of the newest window: eye (1,T,S,S), pupil (1,T,2) and, when wanted, scene (1,T,3,S,S). */
  tensors(withScene: boolean): { eye: Float32Array; pupil: Float32Array; scene: Float32Array | null } {
    const { steps, size } = this.shape;
    const plane = size * size;
    const win = this.latest();
    const eye = new Float32Array(steps * plane);
    const pupil = new Float32Array(steps * 2);
    const scene = withScene ? new Float32Array(steps * 3 * plane) : null;
    win.forEach((s, t) => {
      eye.set(s.eye, t * plane);
      pupil[2 * t] = s.pupil[0];
      pupil[2 * t + 1] = s.pupil[1];
      if (scene && s.scene) scene.set(s.scene, t * 3 * plane);
    });
    return { eye, pupil, scene };
  }
}
