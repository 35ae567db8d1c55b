import type { GazePair, PupilPoint } from '../gaze/gazer.ts';
import type { PupilSample } from './pupil-sample.ts';
import type { Reference, Target } from './references.ts';

/** A calibration observation with when it was made and which target it belongs to. */
export interface TimedPair extends GazePair {
  readonly tNs: bigint;
  readonly target: number;
}

export interface PairingParams {
  /** Pupils below this confidence are not used. */
  readonly minConfidence: number;
  /** Pupils in the first part of each target are not used: the eyes are still on their way to it. */
  readonly settleMs: number;
  /** A pupil pairs with the reference nearest in time, if it is this close. */
  readonly maxReferenceDtMs: number;
  /** Two eyes' pupils this close in time form one binocular observation. */
  readonly maxBinocularDtMs: number;
}

export interface Pairing {
  readonly pairs: TimedPair[];
  /** Pupils left out by the confidence gate, and those that fell outside any settled target. */
  readonly lowConfidence: number;
  readonly offTarget: number;
}

export function pupilPoint(s: PupilSample): PupilPoint | undefined {
  return s.ellipse === null ? undefined : { x: s.ellipse.cx, y: s.ellipse.cy, width: s.width, height: s.height };
}

/**
 * Matches pupils to references by time (Pupil Core's closest-match), keeps only confident pupils on settled
 * targets, and joins the two eyes' pupils into binocular observations where both exist.
 */
export function pairWithReferences(
  references: readonly Reference[],
  targets: readonly Target[],
  pupils: readonly PupilSample[],
  params: PairingParams,
): Pairing {
  const refs = [...references].sort((a, b) => (a.tNs < b.tNs ? -1 : a.tNs > b.tNs ? 1 : 0));
  const starts = new Map(targets.map((t) => [t.id, t.startNs]));
  const maxDt = BigInt(Math.round(params.maxReferenceDtMs * 1e6));
  const settle = BigInt(Math.round(params.settleMs * 1e6));
  let lowConfidence = 0;
  let offTarget = 0;
  const matched: { eye0: Matched[]; eye1: Matched[] } = { eye0: [], eye1: [] };
  for (const s of pupils) {
    if (s.ellipse === null || !(s.confidence >= params.minConfidence)) {
      lowConfidence++;
      continue;
    }
    const ref = nearest(refs, s.tNs);
    const start = ref === undefined ? undefined : starts.get(ref.target);
    if (ref === undefined || start === undefined || abs(ref.tNs - s.tNs) > maxDt || s.tNs - start < settle) {
      offTarget++;
      continue;
    }
    matched[s.eye].push({ sample: s, ref });
  }
  return { pairs: joinEyes(matched.eye0, matched.eye1, params.maxBinocularDtMs), lowConfidence, offTarget };
}

interface Matched {
  readonly sample: PupilSample;
  readonly ref: Reference;
}

function joinEyes(eye0: Matched[], eye1: Matched[], maxBinocularDtMs: number): TimedPair[] {
  const maxDt = BigInt(Math.round(maxBinocularDtMs * 1e6));
  eye1.sort((a, b) => (a.sample.tNs < b.sample.tNs ? -1 : 1));
  const used = new Set<Matched>();
  const pairs: TimedPair[] = [];
  for (const m0 of eye0) {
    const i = lowerBound(eye1, m0.sample.tNs, (m) => m.sample.tNs);
    let best: Matched | undefined;
    for (const j of [i - 1, i]) {
      const m1 = eye1[j];
      if (m1 === undefined || m1.ref.target !== m0.ref.target || abs(m1.sample.tNs - m0.sample.tNs) > maxDt) continue;
      if (best === undefined || abs(m1.sample.tNs - m0.sample.tNs) < abs(best.sample.tNs - m0.sample.tNs)) best = m1;
    }
    if (best !== undefined) used.add(best);
    pairs.push({
      tNs: m0.sample.tNs,
      target: m0.ref.target,
      ref: { x: m0.ref.x, y: m0.ref.y },
      eye0: pupilPoint(m0.sample),
      ...(best === undefined ? {} : { eye1: pupilPoint(best.sample) }),
    });
  }
  for (const m1 of eye1) {
    if (!used.has(m1))
      pairs.push({
        tNs: m1.sample.tNs,
        target: m1.ref.target,
        ref: { x: m1.ref.x, y: m1.ref.y },
        eye1: pupilPoint(m1.sample),
      });
  }
  return pairs.sort((a, b) => (a.tNs < b.tNs ? -1 : a.tNs > b.tNs ? 1 : 0));
}

function nearest(refs: readonly Reference[], tNs: bigint): Reference | undefined {
  const i = lowerBound(refs, tNs, (r) => r.tNs);
  const a = refs[i - 1];
  const b = refs[i];
  if (a === undefined) return b;
  if (b === undefined) return a;
  return tNs - a.tNs <= b.tNs - tNs ? a : b;
}

/** First index whose key is ≥ t. */
function lowerBound<T>(items: readonly T[], t: bigint, key: (x: T) => bigint): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(items[mid] as T) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}
