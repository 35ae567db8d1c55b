import { existsSync, statSync } from 'node:fs';
import cv, { type Mat, type VideoWriter } from '../../device/opencv.ts';
import { CROP_SIDE, cropFace, cropQuality, type FaceCrop, thumbnail } from './crops.ts';
import type { Box, FaceDetector } from './detector.ts';
import { type FaceTrack, FaceTracker, iou } from './tracker.ts';

/** Decides, from a track's crops, whether the face is an enrolled person's (then it stays visible). */
export type EnrolledMatcher = (track: FaceTrack) => Promise<boolean>;

export interface BlurOptions {
  /** Their detections are pooled: for privacy a false face (an extra blur) is cheap, a missed face is not. */
  readonly detectors: readonly FaceDetector[];
  /** Absent: nobody is known to be enrolled, every face is blurred. */
  readonly enrolled?: EnrolledMatcher;
  /** Detector misses are covered by blurring each face box this many frames before and after it too. */
  readonly holdFrames?: number;
}

export interface BlurReport {
  readonly frames: number;
  readonly facesBlurred: number;
  readonly tracks: number;
  readonly tracksKept: number;
}

interface FrameFaces {
  readonly boxes: { box: Box; track: number }[];
}

/**
 * Writes a copy of a video with faces blurred, except those of enrolled people. Two passes over the file: the
 * first detects and tracks every face (and asks `enrolled` about each track), the second writes every frame with
 * the other tracks' boxes (grown by a margin, and held over detector misses) blurred beyond recognition.
 */
export async function blurFacesInVideo(src: string, dst: string, o: BlurOptions): Promise<BlurReport> {
  const { faces, fps, width, height, tracks } = scan(src, o.detectors);
  const exempt = new Set<number>();
  if (o.enrolled) for (const t of tracks) if (await o.enrolled(t)) exempt.add(t.id);
  const hold = o.holdFrames ?? 3;
  const cap = new cv.VideoCapture(src);
  const writer = openWriter(dst, fps, width, height);
  let frames = 0;
  let blurred = 0;
  try {
    for (let m = cap.read(); !m.empty; m = cap.read()) {
      const kept: Box[] = [];
      let touched = false;
      for (let k = Math.max(0, frames - hold); k <= frames + hold && k < faces.length; k++) {
        for (const f of faces[k]?.boxes ?? []) {
          if (exempt.has(f.track)) {
            if (k === frames) kept.push(f.box);
            continue;
          }
          blurBox(m, f.box);
          touched = true;
          if (k === frames) blurred++;
        }
      }
      // An untouched frame is the one the scan already searched: searching it again cannot find anything new.
      if (touched) blurred += recheck(m, o.detectors, kept);
      writer.write(m);
      m.release();
      frames++;
    }
  } finally {
    cap.release();
    writer.release();
  }
  if (!existsSync(dst) || statSync(dst).size === 0) throw new Error(`blurred copy ${dst} was not written`);
  return { frames, facesBlurred: blurred, tracks: tracks.length, tracksKept: exempt.size };
}

/**
 * Detects again on the blurred frame and blurs what appears: the cascades equalise the whole frame's histogram,
 * so hiding one face can make a dim face elsewhere detectable. Faces over a kept (enrolled) box stay.
 */
function recheck(frame: Mat, detectors: readonly FaceDetector[], kept: readonly Box[]): number {
  let extra = 0;
  for (let round = 0; round < 2; round++) {
    const found = detectors.flatMap((d) => d.detect(frame)).filter((b) => !kept.some((k) => iou(k, b) > 0.3));
    if (found.length === 0) break;
    for (const b of found) blurBox(frame, b);
    extra += found.length;
  }
  return extra;
}

function scan(src: string, detectors: readonly FaceDetector[]) {
  if (!existsSync(src)) throw new Error(`video ${src} does not exist`);
  const cap = new cv.VideoCapture(src);
  const fps = cap.get(cv.CAP_PROP_FPS) || 30;
  const tracker = new FaceTracker({ minIou: 0.2, minAppearance: 0.3, maxMissed: 4, maxCrops: 16 });
  const faces: FrameFaces[] = [];
  const tracks: FaceTrack[] = [];
  let width = 0;
  let height = 0;
  try {
    for (let m = cap.read(); !m.empty; m = cap.read()) {
      [width, height] = [m.cols, m.rows];
      const tNs = BigInt(faces.length);
      const boxes = detectors.flatMap((d) => d.detect(m));
      const dets = boxes.map((box) => {
        const pixels = cropFace(m, box);
        const crop: FaceCrop = { tNs, box, pixels, quality: cropQuality(pixels, Math.min(box[2], box[3])) };
        return { box, thumb: thumbnail(pixels, CROP_SIDE), crop };
      });
      m.release();
      tracks.push(...tracker.update(tNs, dets));
      faces.push({ boxes: boxes.map((box, i) => ({ box, track: tracker.assigned[i] as number })) });
    }
  } finally {
    cap.release();
  }
  tracks.push(...tracker.flush());
  return { faces, fps, width, height, tracks };
}

/**
 * Replaces a face box grown by 25% with a smooth 3x3-sample colour field: no face left to recognise, and (unlike
 * pixelation, whose block edges the Haar cascades read as faces) no structure left to detect.
 */
function blurBox(frame: Mat, box: Box): void {
  const mx = Math.round(box[2] * 0.25);
  const my = Math.round(box[3] * 0.25);
  const x = Math.max(0, box[0] - mx);
  const y = Math.max(0, box[1] - my);
  const w = Math.min(frame.cols - x, box[2] + 2 * mx);
  const h = Math.min(frame.rows - y, box[3] + 2 * my);
  if (w < 2 || h < 2) return;
  const rect = new cv.Rect(x, y, w, h);
  const region = frame.getRegion(rect);
  const tiny = region.resize(3, 3, 0, 0, cv.INTER_AREA);
  const smooth = tiny.resize(h, w, 0, 0, cv.INTER_LINEAR);
  smooth.copyTo(region); // region is a view into the frame: this writes the frame's pixels
  for (const mat of [smooth, tiny, region]) mat.release();
}

function openWriter(path: string, fps: number, width: number, height: number): VideoWriter {
  for (const fourcc of ['avc1', 'mp4v']) {
    const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc(fourcc), fps, new cv.Size(width, height));
    // get(CAP_PROP_BACKEND) is -1 for a writer that failed to open (the binding does not throw).
    if ((writer.get(42) as unknown as number) >= 0) return writer;
    writer.release();
  }
  throw new Error(`cannot open a video writer for ${path}`);
}
