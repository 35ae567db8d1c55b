import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEyeTrackingConfig } from '../../calibration/config.ts';
import { readSessionTruth, type SessionTruth, toUs } from '../../calibration/evaluation/groundtruth.ts';
import { eventF1, pupilAccuracy } from '../../calibration/evaluation/metrics.ts';
import { BlinkDetector } from '../../calibration/events/blink-detector.ts';
import type { EyeId } from '../../calibration/gaze/gazer.ts';
import { DarkPupilDetector } from '../../calibration/pupil/dark-pupil-detector.ts';
import { greyImageOf } from '../../calibration/pupil/grey-image.ts';
import type { PupilSample } from '../../calibration/session/pupil-sample.ts';
import cv from '../../device/opencv.ts';
import { detectPupils } from '../../tools/bench/eye.ts';
import { SAMPLE } from '../helpers/cli.ts';

/**
 * Pupil detection on the bundled synthetic session, against the ellipses the generator drew. Measured on this
 * machine: median centre error 0.08 / 0.10 px, p95 0.20 / 0.22 px, detection rate 100% (eye0 / eye1), blink F1 1.0.
 * The bounds leave room for codec and platform differences, not for a broken detector.
 */
describe('pupil detection on the sample session', () => {
  let truth: SessionTruth;
  const pupils: Partial<Record<EyeId, PupilSample[]>> = {};

  beforeAll(() => {
    truth = readSessionTruth(SAMPLE);
    for (const eye of ['eye0', 'eye1'] as const) pupils[eye] = detectPupils(SAMPLE, eye);
  });

  it.each(['eye0', 'eye1'] as const)('%s: centre error and detection rate', (eye) => {
    const samples = pupils[eye] as PupilSample[];
    expect(samples).toHaveLength(truth.eyes[eye].tUs.length);
    const a = pupilAccuracy(samples, truth, eye, 0.6);
    expect(a.frames).toBeGreaterThan(3000);
    expect(a.detectionRate).toBeGreaterThanOrEqual(0.99);
    expect(a.medianErrorPx).toBeLessThan(0.25);
    expect(a.p95ErrorPx).toBeLessThan(0.6);
  });

  it.each(['eye0', 'eye1'] as const)('%s: confidence stays in [0, 1] and diameters are plausible', (eye) => {
    for (const s of pupils[eye] as PupilSample[]) {
      expect(s.confidence).toBeGreaterThanOrEqual(0);
      expect(s.confidence).toBeLessThanOrEqual(1);
      if (s.ellipse !== null) expect(s.ellipse.major).toBeLessThan(0.25 * 192 + 1);
    }
  });

  it('finds the blinks: event F1 against the generator blinks', () => {
    const config = defaultEyeTrackingConfig();
    const eyes = new Set<EyeId>(['eye0', 'eye1']);
    const detector = new BlinkDetector(config.blinks, eyes);
    const merged = [...(pupils.eye0 ?? []), ...(pupils.eye1 ?? [])].sort((a, b) => (a.tNs < b.tNs ? -1 : 1));
    const blinks = [];
    for (const s of merged) {
      const b = detector.push(s.eye, s.tNs, s.confidence);
      if (b !== null) blinks.push({ startUs: toUs(truth, b.startTNs), endUs: toUs(truth, b.endTNs) });
    }
    const score = eventF1(blinks, truth.blinks);
    expect(score.truth).toBe(7);
    expect(score.f1).toBeGreaterThanOrEqual(0.85);
  });

  it('lid closure drops confidence: the closed frames of every blink score low', () => {
    for (const eye of ['eye0', 'eye1'] as const) {
      const t = truth.eyes[eye];
      const closed = (pupils[eye] as PupilSample[]).filter((_, i) => (t.pupilVisible[i] ?? 1) === 0);
      expect(closed.length).toBeGreaterThan(20);
      const confident = closed.filter((s) => s.confidence >= 0.6).length;
      expect(confident / closed.length).toBeLessThan(0.1);
    }
  });
});

describe('pupil detector on bad frames', () => {
  const detector = new DarkPupilDetector();

  it('a black frame gives no pupil and zero confidence', () => {
    const black = new cv.Mat(192, 192, cv.CV_8UC3, [0, 0, 0]);
    const d = detector.detect(greyImageOf(black));
    black.release();
    expect(d).toEqual({ ellipse: null, confidence: 0, diameterPx: 0 });
  });

  it('a flat grey or saturated frame gives no pupil', () => {
    for (const level of [128, 255]) {
      const d = detector.detect({ data: new Uint8Array(192 * 192).fill(level), width: 192, height: 192 });
      expect(d.confidence).toBe(0);
    }
  });

  it('noise alone gives no confident pupil', () => {
    let seed = 7;
    const data = new Uint8Array(192 * 192).map(() => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return 60 + (seed >>> 24) / 4;
    });
    expect(detector.detect({ data, width: 192, height: 192 }).confidence).toBeLessThan(0.3);
  });

  it('a truncated buffer or a tiny image is refused, not read past its end', () => {
    expect(detector.detect({ data: new Uint8Array(10), width: 192, height: 192 }).confidence).toBe(0);
    expect(detector.detect({ data: new Uint8Array(64), width: 8, height: 8 }).confidence).toBe(0);
  });
});
