import type { FixationRow } from '../../storage/eye-events.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';

export interface FixationParams {
  /** Largest spread of a fixation, degrees: horizontal plus vertical extent (Salvucci & Goldberg's I-DT). */
  readonly maxDispersionDeg: number;
  readonly minDurationMs: number;
  /** A fixation this long is closed and a new one begins (Pupil Player's default is 220 ms). */
  readonly maxDurationMs: number;
  /** A gap in the gaze stream longer than this (a blink, a lost pupil) ends a fixation. */
  readonly maxGapMs: number;
}

export interface GazePoint {
  readonly tNs: bigint;
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
}

/** A fixation as the detector reports it: the stored row without its session (storage owns the shape). */
export type Fixation = Omit<FixationRow, 'sessionId'>;

interface Entry extends GazePoint {
  /** Horizontal and vertical visual angle of the sample, degrees. */
  readonly az: number;
  readonly el: number;
}

/**
 * Online dispersion-threshold fixation detection. Samples arrive in time order; a window grows while its
 * angular extent stays within the threshold. When the next sample would break it, a window that lasted at least
 * the minimum duration is a fixation and is emitted; a shorter one slides on by dropping its oldest samples.
 * Angles come from the scene intrinsics, so the threshold means the same at the image centre and in its corners.
 */
export class FixationDetector {
  private window: Entry[] = [];

  constructor(
    private readonly scene: SceneCamera,
    private readonly params: FixationParams,
  ) {}

  /** Feeds one gaze sample; returns the fixation it completed, if any. */
  push(p: GazePoint): Fixation | null {
    const ray = this.scene.ray(p.x, p.y);
    const entry: Entry = {
      ...p,
      az: (Math.atan2(ray[0], ray[2]) * 180) / Math.PI,
      el: (Math.atan2(ray[1], Math.hypot(ray[0], ray[2])) * 180) / Math.PI,
    };
    let done: Fixation | null = null;
    const last = this.window.at(-1);
    if (last !== undefined && Number(p.tNs - last.tNs) / 1e6 > this.params.maxGapMs) done = this.close();
    this.window.push(entry);
    if (dispersion(this.window) > this.params.maxDispersionDeg) {
      this.window.pop();
      if (this.durationMs() >= this.params.minDurationMs) {
        done = this.close();
        this.window = [entry];
      } else {
        this.window.push(entry);
        while (this.window.length > 1 && dispersion(this.window) > this.params.maxDispersionDeg) this.window.shift();
      }
    } else if (this.durationMs() >= this.params.maxDurationMs) {
      done = this.close();
    }
    return done;
  }

  /** At the end of input: the fixation in progress, if it is long enough. */
  flush(): Fixation | null {
    return this.close();
  }

  private durationMs(): number {
    const first = this.window[0];
    const last = this.window.at(-1);
    return first === undefined || last === undefined ? 0 : Number(last.tNs - first.tNs) / 1e6;
  }

  private close(): Fixation | null {
    const w = this.window;
    this.window = [];
    const first = w[0];
    const last = w.at(-1);
    if (first === undefined || last === undefined || Number(last.tNs - first.tNs) / 1e6 < this.params.minDurationMs)
      return null;
    let x = 0;
    let y = 0;
    let c = 0;
    for (const e of w) {
      x += e.x;
      y += e.y;
      c += e.confidence;
    }
    return {
      startTNs: first.tNs,
      endTNs: last.tNs,
      x: x / w.length,
      y: y / w.length,
      dispersionDeg: dispersion(w),
      samples: w.length,
      confidence: c / w.length,
    };
  }
}

function dispersion(w: readonly Entry[]): number {
  let minAz = Number.POSITIVE_INFINITY;
  let maxAz = Number.NEGATIVE_INFINITY;
  let minEl = Number.POSITIVE_INFINITY;
  let maxEl = Number.NEGATIVE_INFINITY;
  for (const e of w) {
    if (e.az < minAz) minAz = e.az;
    if (e.az > maxAz) maxAz = e.az;
    if (e.el < minEl) minEl = e.el;
    if (e.el > maxEl) maxEl = e.el;
  }
  return w.length === 0 ? 0 : maxAz - minAz + (maxEl - minEl);
}
