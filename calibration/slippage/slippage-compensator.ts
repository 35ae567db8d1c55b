import type { EyeId } from '../gaze/gazer.ts';
import type { PupilEllipse } from '../pupil/types.ts';
import { estimateCentreShift } from './eye-centre.ts';

export interface SlippageParams {
  /** Seconds of recent pupils the drift estimate looks at. */
  readonly windowS: number;
  /** How often the estimate is refreshed, seconds. */
  readonly updateEveryS: number;
  /** Pull towards "no slip" when the eye has looked in few directions (see estimateCentreShift). */
  readonly ridge: number;
  /** An estimated shift smaller than this is noise, not slippage, px: no correction. */
  readonly deadbandPx: number;
  /** A shift larger than this is corrected, but the wearer is asked to recalibrate, px. */
  readonly recalibratePx: number;
  readonly minConfidence: number;
}

export interface SlippageStatus {
  readonly eye: EyeId;
  /** Latest estimate of how far the eyeball centre has moved in the eye image since calibration, px. */
  readonly estimatePx: readonly [number, number];
  /** The shift being corrected for (zero inside the deadband). */
  readonly appliedPx: readonly [number, number];
  readonly needsRecalibration: boolean;
}

export type SlippageEvent = {
  readonly eye: EyeId;
  readonly kind: 'slipped' | 'settled' | 'recalibrate';
  readonly shiftPx: number;
};

interface EyeState {
  readonly reference: readonly [number, number];
  readonly times: bigint[];
  readonly ellipses: PupilEllipse[];
  estimate: readonly [number, number];
  applied: readonly [number, number];
  recalibrate: boolean;
  nextUpdateNs: bigint;
}

/**
 * Keeps the gaze mapping right when the glasses slip on the nose. The eyeball centre, found in the eye image from
 * the pupil ellipses, does not move when the eye rotates, only when the camera moves: its shift since calibration
 * is the slippage. The gaze mapper unprojects pupils from the shifted centre, which corrects for it. Shifts within
 * the deadband are treated as estimation noise (with hysteresis, so the correction does not flicker), and large
 * ones raise a recalibration prompt.
 */
export class SlippageCompensator {
  private readonly eyes = new Map<EyeId, EyeState>();
  private readonly events: SlippageEvent[] = [];

  constructor(
    references: Partial<Record<EyeId, readonly [number, number]>>,
    private readonly params: SlippageParams,
  ) {
    for (const [eye, reference] of Object.entries(references) as [EyeId, readonly [number, number]][]) {
      this.eyes.set(eye, {
        reference,
        times: [],
        ellipses: [],
        estimate: [0, 0],
        applied: [0, 0],
        recalibrate: false,
        nextUpdateNs: 0n,
      });
    }
  }

  observe(eye: EyeId, tNs: bigint, ellipse: PupilEllipse | null, confidence: number): void {
    const s = this.eyes.get(eye);
    if (s === undefined || ellipse === null || confidence < this.params.minConfidence) return;
    s.times.push(tNs);
    s.ellipses.push(ellipse);
    if (s.nextUpdateNs === 0n) s.nextUpdateNs = tNs + seconds(this.params.windowS);
    if (tNs < s.nextUpdateNs) return;
    s.nextUpdateNs = tNs + seconds(this.params.updateEveryS);
    const horizon = tNs - seconds(this.params.windowS);
    let drop = 0;
    while (drop < s.times.length && (s.times[drop] as bigint) < horizon) drop++;
    s.times.splice(0, drop);
    s.ellipses.splice(0, drop);
    const shift = estimateCentreShift(s.ellipses, s.reference, this.params.ridge);
    if (shift !== null) this.update(eye, s, [shift.dx, shift.dy]);
  }

  /** The eyeball-centre shift to correct for, px. */
  shift(eye: EyeId): readonly [number, number] {
    return this.eyes.get(eye)?.applied ?? [0, 0];
  }

  status(): SlippageStatus[] {
    return [...this.eyes].map(([eye, s]) => ({
      eye,
      estimatePx: s.estimate,
      appliedPx: s.applied,
      needsRecalibration: s.recalibrate,
    }));
  }

  /** What changed since the last call (for the log and the phone). */
  drainEvents(): SlippageEvent[] {
    return this.events.splice(0);
  }

  private update(eye: EyeId, s: EyeState, estimate: readonly [number, number]): void {
    s.estimate = estimate;
    const size = Math.hypot(estimate[0], estimate[1]);
    const correcting = s.applied[0] !== 0 || s.applied[1] !== 0;
    // Hysteresis: start correcting beyond the deadband, stop only well inside it.
    if (size > this.params.deadbandPx || (correcting && size > this.params.deadbandPx / 2)) {
      if (!correcting) this.events.push({ eye, kind: 'slipped', shiftPx: size });
      s.applied = estimate;
    } else if (correcting) {
      s.applied = [0, 0];
      this.events.push({ eye, kind: 'settled', shiftPx: size });
    }
    const recalibrate = size > this.params.recalibratePx;
    if (recalibrate && !s.recalibrate) this.events.push({ eye, kind: 'recalibrate', shiftPx: size });
    s.recalibrate = recalibrate;
  }
}

function seconds(s: number): bigint {
  return BigInt(Math.round(s * 1e9));
}
