import cv from '../../device/opencv.ts';
import { readSessionManifest, readTimestamps, sessionStreams } from '../../device/session/format.ts';
import type { EyeId } from '../gaze/gazer.ts';
import { greyImageOf } from '../pupil/grey-image.ts';
import { PupilTracker, type PupilTrackerParams } from '../pupil/pupil-tracker.ts';
import type { AsyncPupilDetector, GreyImage, PupilDetection } from '../pupil/types.ts';
import type { PupilSample } from '../session/pupil-sample.ts';
import type { EyeTruth, SessionTruth } from './groundtruth.ts';
import { type PupilAccuracy, pupilAccuracy } from './metrics.ts';

/**
 * Two pupil detectors measured on the same frames against the same truth: every `step`-th frame of one eye
 * stream is decoded once, each detector sees exactly those grey images, and the truth is cut to those frames.
 */

export interface EyeFrames {
  readonly eye: EyeId;
  /** Frame numbers in the stream (indices into the truth arrays). */
  readonly indices: number[];
  readonly tNs: bigint[];
  readonly images: GreyImage[];
}

/** Every `step`-th frame of `eye`, as the grey images the pupil stage would give its detector. */
export function readEyeFrames(sessionDir: string, eye: EyeId, step = 1, limit = Number.POSITIVE_INFINITY): EyeFrames {
  const files = sessionStreams(sessionDir, readSessionManifest(sessionDir)).find((f) => f.stream === eye);
  const out: EyeFrames = { eye, indices: [], tNs: [], images: [] };
  if (files === undefined) return out;
  const times = readTimestamps(files.timestamps);
  const cap = new cv.VideoCapture(files.video);
  try {
    for (let i = 0; i < times.length && out.images.length < limit; i++) {
      const mat = cap.read();
      if (mat.empty) break;
      if (i % step === 0) {
        out.indices.push(i);
        out.tNs.push(times[i] as bigint);
        out.images.push(greyImageOf(mat));
      }
      mat.release();
    }
  } finally {
    cap.release();
  }
  return out;
}

export interface DetectorRun {
  readonly name: string;
  readonly samples: PupilSample[];
  /** Process CPU time of the detection (all threads), s. */
  readonly cpuS: number;
  readonly wallS: number;
}

/**
 * Runs `detector` over the frames in batches of `batch`, in order; with `track`, each detection then goes
 * through the per-eye plausibility track as in the pupil stage (outside the timing).
 */
export async function runDetector(
  detector: AsyncPupilDetector,
  frames: EyeFrames,
  options: { batch?: number; track?: PupilTrackerParams } = {},
): Promise<DetectorRun> {
  const batch = options.batch ?? 32;
  const detections: PupilDetection[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < frames.images.length; i += batch) {
    detections.push(...(await detector.detectBatch(frames.images.slice(i, i + batch))));
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  const tracker = options.track === undefined ? undefined : new PupilTracker(options.track);
  const samples = detections.map((raw, i) => {
    const img = frames.images[i] as GreyImage;
    const tNs = frames.tNs[i] as bigint;
    const d = tracker === undefined ? raw : tracker.update(raw, tNs, img.width);
    return { eye: frames.eye, tNs, confidence: d.confidence, ellipse: d.ellipse, width: img.width, height: img.height };
  });
  return { name: detector.name, samples, cpuS: (cpu.user + cpu.system) / 1e6, wallS };
}

/** The truth cut to the frames measured, so that `pupilAccuracy` lines it up with their detections. */
export function truthFor(truth: SessionTruth, frames: EyeFrames): SessionTruth {
  const t = truth.eyes[frames.eye];
  const pick = (xs: number[]) => frames.indices.map((i) => xs[i] as number);
  const cut: EyeTruth = {
    tUs: pick(t.tUs),
    cx: pick(t.cx),
    cy: pick(t.cy),
    major: pick(t.major),
    pupilVisible: pick(t.pupilVisible),
    blink: pick(t.blink),
    gazeX: pick(t.gazeX),
    gazeY: pick(t.gazeY),
  };
  return { ...truth, eyes: { ...truth.eyes, [frames.eye]: cut } };
}

export interface DetectorScore extends PupilAccuracy {
  readonly name: string;
  /** Closed-eye frames (no pupil visible) and the fraction of them the detector was confident about. */
  readonly closedFrames: number;
  readonly confidentWhenClosed: number;
}

/** Centre error, detection rate (confidence ≥ `minConfidence`), and confidence on closed eyes. */
export function scoreRun(run: DetectorRun, truth: SessionTruth, frames: EyeFrames, minConfidence = 0.6): DetectorScore {
  const cut = truthFor(truth, frames);
  const visible = cut.eyes[frames.eye].pupilVisible;
  const closed = run.samples.filter((_, i) => (visible[i] ?? 1) === 0);
  const confident = closed.filter((s) => s.confidence >= minConfidence).length;
  return {
    name: run.name,
    ...pupilAccuracy(run.samples, cut, frames.eye, minConfidence),
    closedFrames: closed.length,
    confidentWhenClosed: closed.length === 0 ? 0 : confident / closed.length,
  };
}
