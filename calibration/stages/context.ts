import type { EyeId } from '../gaze/gazer.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import type { PupilSample } from '../session/pupil-sample.ts';

/** A gaze sample as the gaze stage produces it and the events stage consumes it. */
export interface GazeSample {
  readonly tNs: bigint;
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
  readonly source: EyeId | 'binocular';
}

/**
 * What the eye-tracking stages hand each other, passed to each through its constructor: the pupil stage puts
 * each eye frame's pupil here before the gaze stage (next in the pipeline) reads it, and the gaze stage queues the
 * gaze it produced for the events stage. No stage reaches into another.
 */
export class EyeTrackingContext {
  readonly latest: Partial<Record<EyeId, PupilSample & { readonly index: number }>> = {};
  readonly eyesSeen = new Set<EyeId>();
  private gaze: GazeSample[] = [];
  /** The scene camera gaze is mapped in, once known (from the active calibration or the session). */
  scene: SceneCamera | null = null;

  putPupil(sample: PupilSample, index: number): void {
    this.latest[sample.eye] = { ...sample, index };
    this.eyesSeen.add(sample.eye);
  }

  /** This eye frame's pupil, or undefined when the pupil stage did not produce one for it. */
  pupilFor(eye: EyeId, index: number): PupilSample | undefined {
    const s = this.latest[eye];
    return s !== undefined && s.index === index ? s : undefined;
  }

  queueGaze(g: GazeSample): void {
    this.gaze.push(g);
  }

  drainGaze(): GazeSample[] {
    const out = this.gaze;
    this.gaze = [];
    return out;
  }
}
