import type { PupilDetection } from './types.ts';

export interface PupilTrackerParams {
  /** A detection whose major axis differs from the recent median by more than this factor is not the pupil. */
  readonly maxSizeRatio: number;
  /** Fastest the pupil centre moves (a saccade at ~600°/s is ~600 px/s at 192 px), px/s at 192 px width. */
  readonly maxSpeedPxPerS: number;
  /** How far back the reference pupil size looks. */
  readonly historyS: number;
}

export const PUPIL_TRACKER_DEFAULTS: PupilTrackerParams = { maxSizeRatio: 1.35, maxSpeedPxPerS: 700, historyS: 0.5 };

const MIN_RAW_CONFIDENCE = 0.7;
const MIN_HISTORY = 12;

/**
 * Checks each frame's detection against the eye's recent past. The pupil's major axis is its true diameter
 * (foreshortening shortens only the minor axis) and changes slowly, and its centre cannot outrun a saccade:
 * a tuft of lashes on a closing lid can look like a clean dark ellipse in one frame, but it is the wrong size
 * and in the wrong place. The reference size is the median of recent confident detections, so a few false
 * ones cannot capture it. Detectors stay per-frame functions; this is the only per-eye memory.
 */
export class PupilTracker {
  private readonly sizes: number[] = [];
  private readonly times: bigint[] = [];
  private refMajor = 0;
  private sinceRef = 0;
  private last: { x: number; y: number; tNs: bigint } | null = null;

  constructor(private readonly params: PupilTrackerParams = PUPIL_TRACKER_DEFAULTS) {}

  /** The detection with its confidence lowered when it contradicts the track. */
  update(d: PupilDetection, tNs: bigint, width: number): PupilDetection {
    const e = d.ellipse;
    if (e === null || d.confidence === 0) return d;
    if (d.confidence >= MIN_RAW_CONFIDENCE) this.remember(e.major, tNs);
    let factor = 1;
    if (this.refMajor > 0) {
      const ratio = e.major / this.refMajor;
      if (ratio > this.params.maxSizeRatio || ratio < 1 / this.params.maxSizeRatio) factor = 0.2;
    }
    if (this.last !== null && factor === 1) {
      const dtS = Number(tNs - this.last.tNs) / 1e9;
      const reach = ((this.params.maxSpeedPxPerS * width) / 192) * dtS + 0.25 * e.major;
      if (Math.hypot(e.cx - this.last.x, e.cy - this.last.y) > reach) factor = 0.2;
    }
    const confidence = d.confidence * factor;
    if (confidence >= MIN_RAW_CONFIDENCE) this.last = { x: e.cx, y: e.cy, tNs };
    return factor === 1 ? d : { ...d, confidence };
  }

  private remember(major: number, tNs: bigint): void {
    this.sizes.push(major);
    this.times.push(tNs);
    const horizon = tNs - BigInt(Math.round(this.params.historyS * 1e9));
    while (this.times.length > 0 && (this.times[0] as bigint) < horizon) {
      this.times.shift();
      this.sizes.shift();
    }
    // The median moves slowly: recomputing it every few frames is as good and far cheaper.
    if (this.sizes.length >= MIN_HISTORY && (++this.sinceRef >= 8 || this.refMajor === 0)) {
      this.sinceRef = 0;
      const sorted = [...this.sizes].sort((a, b) => a - b);
      this.refMajor = sorted[sorted.length >> 1] as number;
    }
  }
}
