import type { FaceCrop } from './crops.ts';
import { pearson } from './crops.ts';
import type { Box } from './detector.ts';

/** A face detection on one frame, with the tracker's appearance cue and whether its crop passed quality gating. */
export interface Detection {
  readonly box: Box;
  readonly thumb: Float32Array;
  /** The crop, when it passed the quality gate; a gated-out detection still keeps its track alive. */
  readonly crop: FaceCrop | null;
}

/** One person's face followed over consecutive frames. */
export interface FaceTrack {
  readonly id: number;
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  readonly detections: number;
  /** The kept crops (the sharpest, at most `maxCrops`), in time order. */
  readonly crops: readonly FaceCrop[];
}

export interface TrackerOptions {
  readonly minIou: number;
  readonly minAppearance: number;
  /** Detector runs a track may go without a detection before it ends (short occlusions). */
  readonly maxMissed: number;
  readonly maxCrops: number;
}

interface Live {
  readonly id: number;
  box: Box;
  velocity: readonly [number, number];
  thumb: Float32Array;
  missed: number;
  detections: number;
  readonly startTNs: bigint;
  endTNs: bigint;
  crops: FaceCrop[];
}

/**
 * Links per-frame detections into tracks: a detection continues the live track whose box (moved on by its
 * velocity) it overlaps enough and whose last appearance it resembles, best pairs first; the rest start tracks.
 * A track survives `maxMissed` detector runs without a match, so a face briefly hidden keeps its track.
 */
export class FaceTracker {
  private live: Live[] = [];
  private nextId = 1;
  /** The track id each detection of the last `update` went to, in detection order. */
  assigned: number[] = [];

  constructor(private readonly o: TrackerOptions) {}

  get liveCount(): number {
    return this.live.length;
  }

  /** Feeds one detector run; returns the tracks that ended. */
  update(tNs: bigint, detections: readonly Detection[]): FaceTrack[] {
    const pairs: Array<{ t: Live; d: number; score: number }> = [];
    for (const t of this.live) {
      const predicted = shift(t.box, t.velocity, t.missed + 1);
      for (const [d, det] of detections.entries()) {
        const overlap = Math.max(iou(predicted, det.box), iou(t.box, det.box));
        const look = pearson(t.thumb, det.thumb);
        if (overlap >= this.o.minIou && look >= this.o.minAppearance) pairs.push({ t, d, score: overlap + look });
      }
    }
    pairs.sort((a, b) => b.score - a.score);
    const usedTracks = new Set<Live>();
    const usedDetections = new Map<number, number>(); // detection → track id
    for (const p of pairs) {
      if (usedTracks.has(p.t) || usedDetections.has(p.d)) continue;
      usedTracks.add(p.t);
      usedDetections.set(p.d, p.t.id);
      this.extend(p.t, tNs, detections[p.d] as Detection);
    }
    const ended: FaceTrack[] = [];
    this.live = this.live.filter((t) => {
      if (usedTracks.has(t)) return true;
      t.missed++;
      if (t.missed <= this.o.maxMissed) return true;
      ended.push(this.close(t));
      return false;
    });
    this.assigned = detections.map((det, d) => {
      const owner = usedDetections.get(d);
      if (owner !== undefined) return owner;
      const t = this.start(tNs, det);
      this.live.push(t);
      return t.id;
    });
    return ended;
  }

  /** Ends every live track (end of input). */
  flush(): FaceTrack[] {
    const ended = this.live.map((t) => this.close(t));
    this.live = [];
    return ended;
  }

  private start(tNs: bigint, det: Detection): Live {
    const crops = det.crop ? [det.crop] : [];
    return {
      id: this.nextId++,
      box: det.box,
      velocity: [0, 0],
      thumb: det.thumb,
      missed: 0,
      detections: 1,
      startTNs: tNs,
      endTNs: tNs,
      crops,
    };
  }

  private extend(t: Live, tNs: bigint, det: Detection): void {
    const steps = t.missed + 1;
    const cx = (b: Box) => b[0] + b[2] / 2;
    const cy = (b: Box) => b[1] + b[3] / 2;
    t.velocity = [(cx(det.box) - cx(t.box)) / steps, (cy(det.box) - cy(t.box)) / steps];
    t.box = det.box;
    t.thumb = det.thumb;
    t.missed = 0;
    t.detections++;
    t.endTNs = tNs;
    if (det.crop) this.keep(t, det.crop);
  }

  /** Keeps the sharpest `maxCrops` crops; memory per track stays bounded however long the face stays in view. */
  private keep(t: Live, crop: FaceCrop): void {
    t.crops.push(crop);
    if (t.crops.length <= this.o.maxCrops) return;
    let worst = 0;
    for (const [i, c] of t.crops.entries()) {
      if (c.quality.sharpness < (t.crops[worst] as FaceCrop).quality.sharpness) worst = i;
    }
    t.crops.splice(worst, 1);
  }

  private close(t: Live): FaceTrack {
    return { id: t.id, startTNs: t.startTNs, endTNs: t.endTNs, detections: t.detections, crops: t.crops };
  }
}

function shift(b: Box, v: readonly [number, number], steps: number): Box {
  return [b[0] + v[0] * steps, b[1] + v[1] * steps, b[2], b[3]];
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}
