import type { GazeTrack } from '../../device/gaze-track.ts';
import cv, { type Mat } from '../../device/opencv.ts';

/** The TVA network's input geometry, read from its manifest (models/zoo/tva/<version>/manifest.json). */
export interface TvaGeometry {
  readonly width: number;
  readonly height: number;
  /** The second frame of the pair is this many scene frames older than the first. */
  readonly lagFrames: number;
  /** Gaze samples in the history, one per scene frame, newest last. */
  readonly gazeSteps: number;
}

export const TVA_DEFAULT_GEOMETRY: TvaGeometry = { width: 128, height: 96, lagFrames: 4, gazeSteps: 16 };

/** Gaze older than this at a scene frame is no gaze (a blink, a lost pupil), encoded as valid = 0. */
const GAZE_MAX_AGE_NS = 50_000_000n;

/**
 * Keeps what the network needs from the recent scene frames: each frame downscaled once (INTER_AREA, BGR, /255,
 * planar) and the gaze at its time, normalised by the scene size. Every scene frame passes through here even when
 * the network does not run on it, so that the frame pair and the gaze history always have their true spacing.
 */
export class TvaInput {
  private readonly frames: Float32Array[] = [];
  private readonly gaze: Float32Array[] = [];

  constructor(
    private readonly geometry: TvaGeometry,
    private readonly track: GazeTrack,
  ) {}

  push(scene: Mat, tNs: bigint): void {
    const g = this.geometry;
    const small = scene.resize(g.height, g.width, 0, 0, cv.INTER_AREA);
    let bgr: Mat = small;
    try {
      if (small.channels === 1) bgr = small.cvtColor(cv.COLOR_GRAY2BGR);
      else if (small.channels === 4) bgr = small.cvtColor(cv.COLOR_BGRA2BGR);
      this.frames.push(planar(bgr.getData(), g.width * g.height));
    } finally {
      if (bgr !== small) bgr.release();
      small.release();
    }
    const p = this.track.at(tNs, GAZE_MAX_AGE_NS);
    this.gaze.push(
      p === null ? new Float32Array(3) : Float32Array.of(p.x / scene.cols, p.y / scene.rows, p.confidence > 0 ? 1 : 0),
    );
    if (this.frames.length > g.lagFrames + 1) this.frames.shift();
    if (this.gaze.length > g.gazeSteps) this.gaze.shift();
  }

  /** True once a frame `lagFrames` back exists. */
  get ready(): boolean {
    return this.frames.length === this.geometry.lagFrames + 1;
  }

  /** The `scene` [1, 6, H, W] and `gaze` [1, steps, 3] tensors' data for the newest frame. */
  tensors(): { scene: Float32Array; gaze: Float32Array } {
    const g = this.geometry;
    const plane = 3 * g.width * g.height;
    const scene = new Float32Array(2 * plane);
    scene.set(this.frames.at(-1) as Float32Array, 0);
    scene.set(this.frames[0] as Float32Array, plane);
    const gaze = new Float32Array(g.gazeSteps * 3);
    // Older than the history holds: zeros (no gaze), at the front, so the newest sample is always last.
    const offset = g.gazeSteps - this.gaze.length;
    for (const [i, s] of this.gaze.entries()) gaze.set(s, (offset + i) * 3);
    return { scene, gaze };
  }
}

/** Interleaved BGR bytes → planar float channels in [0, 1]. */
function planar(bytes: Buffer, pixels: number): Float32Array {
  const out = new Float32Array(3 * pixels);
  for (let i = 0; i < pixels; i++) {
    out[i] = (bytes[3 * i] as number) / 255;
    out[pixels + i] = (bytes[3 * i + 1] as number) / 255;
    out[2 * pixels + i] = (bytes[3 * i + 2] as number) / 255;
  }
  return out;
}
