/**
 * Emotion episodes from a stream of per-step class probabilities, with hysteresis: an episode starts when one
 * non-neutral emotion's probability stays at or above `onset` for `minSteps` inferences, peaks where it is
 * highest, and ends when it stays below `offset` for `minSteps`. Between the two thresholds nothing changes, so a
 * probability hovering near one threshold cannot make a burst of one-step episodes.
 */

export interface EpisodeSettings {
  readonly onset: number;
  readonly offset: number;
  readonly minSteps: number;
}

export interface Peak {
  readonly tNs: bigint;
  readonly probability: number;
}

export interface Episode<T> {
  readonly emotion: number;
  readonly onsetTNs: bigint;
  readonly offsetTNs: bigint;
  readonly peak: Peak;
  /** Whatever the caller attached to the peak step (embedding, logits). */
  readonly atPeak: T;
}

export type EpisodeEvent<T> =
  | { readonly kind: 'onset'; readonly emotion: number; readonly tNs: bigint; readonly probability: number }
  | { readonly kind: 'end'; readonly episode: Episode<T> };

interface Open<T> {
  emotion: number;
  onsetTNs: bigint;
  peak: Peak;
  atPeak: T;
  belowSince: bigint | null;
  below: number;
}

export class EpisodeDetector<T> {
  private open: Open<T> | null = null;
  private candidate: { emotion: number; since: bigint; count: number } | null = null;

  constructor(
    private readonly settings: EpisodeSettings,
    /** Index of the class that is no emotion episode (neutral). */
    private readonly neutral = 0,
  ) {
    if (settings.offset > settings.onset) throw new Error('the offset threshold must not exceed the onset threshold');
  }

  get active(): boolean {
    return this.open !== null;
  }

  /** Feeds one inference; returns what happened at this step, if anything. */
  push(tNs: bigint, probs: ArrayLike<number>, attach: () => T): EpisodeEvent<T> | null {
    const { onset, offset, minSteps } = this.settings;
    if (this.open) {
      const o = this.open;
      const p = probs[o.emotion] ?? 0;
      if (p > o.peak.probability) {
        o.peak = { tNs, probability: p };
        o.atPeak = attach();
      }
      if (p < offset) {
        o.belowSince ??= tNs;
        o.below++;
        if (o.below >= minSteps) return this.close(o.belowSince);
      } else {
        o.belowSince = null;
        o.below = 0;
      }
      return null;
    }
    let best = -1;
    for (let c = 0; c < probs.length; c++) {
      if (c !== this.neutral && (best < 0 || (probs[c] ?? 0) > (probs[best] ?? 0))) best = c;
    }
    const p = probs[best] ?? 0;
    if (best < 0 || p < onset) {
      this.candidate = null;
      return null;
    }
    if (this.candidate?.emotion !== best) this.candidate = { emotion: best, since: tNs, count: 0 };
    this.candidate.count++;
    if (this.candidate.count < minSteps) return null;
    this.open = {
      emotion: best,
      onsetTNs: this.candidate.since,
      peak: { tNs, probability: p },
      atPeak: attach(),
      belowSince: null,
      below: 0,
    };
    this.candidate = null;
    return { kind: 'onset', emotion: best, tNs: this.open.onsetTNs, probability: p };
  }

  /** Ends an open episode at `tNs` (end of input). */
  flush(tNs: bigint): EpisodeEvent<T> | null {
    return this.open ? this.close(tNs) : null;
  }

  private close(offsetTNs: bigint): EpisodeEvent<T> {
    const o = this.open as Open<T>;
    this.open = null;
    const episode = { emotion: o.emotion, onsetTNs: o.onsetTNs, offsetTNs, peak: o.peak, atPeak: o.atPeak };
    return { kind: 'end', episode };
  }
}
