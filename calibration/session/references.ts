import type { MarkerDetection } from './marker-detector.ts';

/** Where the wearer was asked to look at one instant, in scene pixels. */
export interface Reference {
  readonly tNs: bigint;
  readonly x: number;
  readonly y: number;
  readonly target: number;
}

/** One dwell of the choreography: a marker position (or a natural-feature point) held for a while. */
export interface Target {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** `auto`: the calibration decides (the last few targets are held out for validation). */
  readonly role: 'calibration' | 'validation' | 'auto';
}

export interface ChoreographyParams {
  /** A marker further than this from the current target's centre starts a new target, scene px. */
  readonly targetRadiusPx: number;
  /** A gap in detections longer than this also starts a new target. */
  readonly maxGapMs: number;
}

/**
 * Collects the single-marker choreography from the scene camera: one reference per frame in which the marker is
 * found, grouped into targets (the marker held still, or the head held still on it). A marker that keeps moving
 * (the wearer turning the head while fixating it) splits into a new target whenever it leaves the radius.
 */
export class MarkerChoreography {
  private readonly refs: Reference[] = [];
  private readonly dwellings: { id: number; sx: number; sy: number; n: number; startNs: bigint; endNs: bigint }[] = [];
  private lastNs: bigint | null = null;
  private firstNs: bigint | null = null;

  constructor(private readonly params: ChoreographyParams) {}

  add(tNs: bigint, marker: MarkerDetection | null): void {
    if (marker === null) return;
    const gapNs = BigInt(Math.round(this.params.maxGapMs * 1e6));
    let current = this.dwellings.at(-1);
    const far =
      current !== undefined &&
      Math.hypot(marker.x - current.sx / current.n, marker.y - current.sy / current.n) > this.params.targetRadiusPx;
    if (current === undefined || far || (this.lastNs !== null && tNs - this.lastNs > gapNs)) {
      current = { id: this.dwellings.length, sx: 0, sy: 0, n: 0, startNs: tNs, endNs: tNs };
      this.dwellings.push(current);
    }
    current.sx += marker.x;
    current.sy += marker.y;
    current.n++;
    current.endNs = tNs;
    this.refs.push({ tNs, x: marker.x, y: marker.y, target: current.id });
    this.lastNs = tNs;
    this.firstNs ??= tNs;
  }

  /** When the marker was last seen (null: never). */
  get lastSeenNs(): bigint | null {
    return this.lastNs;
  }

  get firstSeenNs(): bigint | null {
    return this.firstNs;
  }

  references(): Reference[] {
    return [...this.refs];
  }

  targets(): Target[] {
    return this.dwellings.map((d) => ({
      id: d.id,
      x: d.sx / d.n,
      y: d.sy / d.n,
      startNs: d.startNs,
      endNs: d.endNs,
      role: 'auto' as const,
    }));
  }
}

/** A natural-feature target as the phone or the CLI gives it: a scene point the wearer looked at for a while. */
export interface NaturalTarget {
  readonly x: number;
  readonly y: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly role?: 'calibration' | 'validation';
}

/** Natural-feature targets as references every `stepMs`, so they pair with pupils exactly as marker frames do. */
export function naturalReferences(
  natural: readonly NaturalTarget[],
  stepMs = 1000 / 30,
): { references: Reference[]; targets: Target[] } {
  const references: Reference[] = [];
  const targets: Target[] = [];
  const step = BigInt(Math.max(1, Math.round(stepMs * 1e6)));
  for (const [id, t] of [...natural].sort((a, b) => (a.startNs < b.startNs ? -1 : 1)).entries()) {
    targets.push({ id, x: t.x, y: t.y, startNs: t.startNs, endNs: t.endNs, role: t.role ?? 'auto' });
    for (let tNs = t.startNs; tNs <= t.endNs; tNs += step) references.push({ tNs, x: t.x, y: t.y, target: id });
  }
  return { references, targets };
}
