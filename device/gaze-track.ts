/** One gaze point in scene-camera pixels, as the gaze stage produced it. */
export interface GazePoint {
  readonly tNs: bigint;
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
}

/**
 * The recent gaze in scene pixels, for the stages after eye tracking (attention, emotion cause, snippet crops):
 * a bounded ring, oldest first, so a stage can ask for "the gaze at this scene frame" or "the last second of gaze"
 * without reading SQLite on every frame.
 */
export class GazeTrack {
  private readonly ring: GazePoint[] = [];
  private start = 0;

  constructor(private readonly capacity = 1024) {}

  push(p: GazePoint): void {
    if (this.ring.length < this.capacity) this.ring.push(p);
    else {
      this.ring[this.start] = p;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  get size(): number {
    return this.ring.length;
  }

  /** Points with tNs in (fromNs, toNs], oldest first. */
  between(fromNs: bigint, toNs: bigint): GazePoint[] {
    const out: GazePoint[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const p = this.ring[(this.start + i) % this.ring.length] as GazePoint;
      if (p.tNs > fromNs && p.tNs <= toNs) out.push(p);
    }
    return out;
  }

  /** The latest point at or before tNs that is no older than maxAgeNs, or null. */
  at(tNs: bigint, maxAgeNs: bigint): GazePoint | null {
    for (let i = this.ring.length - 1; i >= 0; i--) {
      const p = this.ring[(this.start + i) % this.ring.length] as GazePoint;
      if (p.tNs <= tNs) return tNs - p.tNs <= maxAgeNs ? p : null;
    }
    return null;
  }
}
