import type { EyeId } from '../gaze/gazer.ts';

export interface BlinkParams {
  /** Pupil confidence below which an eye counts as closing. */
  readonly onsetConfidence: number;
  /** Confidence above which it counts as open again. */
  readonly offsetConfidence: number;
  readonly minDurationMs: number;
  /** Longer closures are eyes shut, not blinks. */
  readonly maxDurationMs: number;
}

export interface Blink {
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  readonly eyes: 'both' | EyeId;
}

/**
 * Blinks from pupil confidence, as Pupil Core detects them: the lid hides the pupil, so confidence falls and
 * comes back. Both eyes blink together, so when both streams are present a blink needs both eyes closed at once;
 * one eye losing its pupil to a reflection is not a blink. Thresholds have hysteresis against flicker.
 */
export class BlinkDetector {
  private readonly closedSince: Partial<Record<EyeId, bigint | null>> = {};
  private readonly lastOpen: Partial<Record<EyeId, bigint>> = {};
  private blinkStart: bigint | null = null;
  private blinkEyes: Blink['eyes'] = 'both';

  /** `eyes`: the eye streams present (a live set: a stream that starts late joins). */
  constructor(
    private readonly params: BlinkParams,
    private readonly eyes: ReadonlySet<EyeId>,
  ) {}

  /** Feeds one eye frame's pupil confidence; returns a blink when one has just ended. */
  push(eye: EyeId, tNs: bigint, confidence: number): Blink | null {
    if (!this.eyes.has(eye)) return null;
    const was = this.closedSince[eye] ?? null;
    if (was === null && confidence < this.params.onsetConfidence) this.closedSince[eye] = this.lastOpen[eye] ?? tNs;
    else if (was !== null && confidence >= this.params.offsetConfidence) this.closedSince[eye] = null;
    if (confidence >= this.params.offsetConfidence) this.lastOpen[eye] = tNs;

    const eyes = [...this.eyes];
    const closed = eyes.filter((e) => this.closedSince[e] != null);
    const allClosed = closed.length === eyes.length;
    if (this.blinkStart === null && allClosed) {
      this.blinkStart = closed.reduce((t, e) => max(t, this.closedSince[e] as bigint), 0n);
      this.blinkEyes = eyes.length === 1 ? (eyes[0] as EyeId) : 'both';
      return null;
    }
    if (this.blinkStart !== null && !allClosed) {
      const start = this.blinkStart;
      this.blinkStart = null;
      const ms = Number(tNs - start) / 1e6;
      if (ms >= this.params.minDurationMs && ms <= this.params.maxDurationMs)
        return { startTNs: start, endTNs: tNs, eyes: this.blinkEyes };
    }
    return null;
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
