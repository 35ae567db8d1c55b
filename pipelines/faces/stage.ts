import type { Mat } from '../../device/opencv.ts';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { FacesConfig } from './config.ts';
import { CROP_SIDE, cropFace, cropQuality, type FaceCrop, thumbnail } from './crops.ts';
import { type Box, FaceDetector } from './detector.ts';
import { type Detection, type FaceTrack, FaceTracker } from './tracker.ts';

/** Where finished tracks go (embedding, clustering, storage); awaited, so the pipeline keeps its order. */
export type TrackSink = (track: FaceTrack) => void | Promise<void>;

export interface FacesStats {
  scenes: number;
  detectorRuns: number;
  detections: number;
  gatedOut: number;
  tracksEnded: number;
  tracksKept: number;
}

type Gate = Pick<FacesConfig, 'minSize' | 'minBlur' | 'minSymmetry'>;

/**
 * The faces stage: every `detectEveryN`-th scene frame, detect faces, copy a small grey crop of each, gate it
 * on quality, and link the detections into tracks; a finished track with enough good crops goes to the sink.
 * A frame with no face costs one detector run on a downscaled grey copy.
 */
export class FacesStage implements Stage {
  readonly name = 'faces';
  readonly counts: FacesStats = {
    scenes: 0,
    detectorRuns: 0,
    detections: 0,
    gatedOut: 0,
    tracksEnded: 0,
    tracksKept: 0,
  };
  stats(): Record<string, number> {
    return { ...this.counts };
  }

  private readonly detector: FaceDetector;
  private readonly tracker: FaceTracker;

  constructor(
    private readonly config: FacesConfig,
    private readonly sink: TrackSink,
  ) {
    this.detector = new FaceDetector(config);
    this.tracker = new FaceTracker({
      minIou: config.minIou,
      minAppearance: config.minAppearance,
      maxMissed: config.maxMissed,
      maxCrops: config.maxCropsPerTrack,
    });
  }

  onScene(paired: PairedScene): Promise<void> | undefined {
    return this.onFrame(paired.scene.mat, paired.scene.tNs);
  }

  /** One scene frame (the Mat is only read); also the entry point for driving the stage from a video file. */
  onFrame(mat: Mat, tNs: bigint): Promise<void> | undefined {
    const n = this.counts.scenes++;
    if (n % this.config.detectEveryN !== 0) return undefined;
    this.counts.detectorRuns++;
    const boxes = this.detector.detect(mat);
    this.counts.detections += boxes.length;
    const ended = this.tracker.update(
      tNs,
      boxes.map((box) => this.describe(mat, tNs, box)),
    );
    return ended.length > 0 ? this.deliver(ended) : undefined;
  }

  async finish(): Promise<void> {
    await this.deliver(this.tracker.flush());
  }

  private describe(mat: Mat, tNs: bigint, box: Box): Detection {
    const pixels = cropFace(mat, box);
    const quality = cropQuality(pixels, Math.min(box[2], box[3]));
    const crop: FaceCrop = { tNs, box, pixels, quality };
    return { box, thumb: thumbnail(pixels, CROP_SIDE), crop: passes(quality, this.config) ? crop : this.gated() };
  }

  private gated(): null {
    this.counts.gatedOut++;
    return null;
  }

  private async deliver(tracks: readonly FaceTrack[]): Promise<void> {
    for (const t of tracks) {
      this.counts.tracksEnded++;
      if (t.crops.length < this.config.minTrackFrames) continue;
      this.counts.tracksKept++;
      await this.sink(t);
    }
  }
}

function passes(q: FaceCrop['quality'], gate: Gate): boolean {
  return q.size >= gate.minSize && q.sharpness >= gate.minBlur && q.symmetry >= gate.minSymmetry;
}
