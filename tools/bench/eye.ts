import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEyeFrames, runDetector, scoreRun } from '../../calibration/evaluation/detector-comparison.ts';
import { readSessionTruth, type SessionTruth } from '../../calibration/evaluation/groundtruth.ts';
import { gazeAccuracy } from '../../calibration/evaluation/metrics.ts';
import type { EyeId } from '../../calibration/gaze/gazer.ts';
import { createEyeTrackingStages, defaultEyeTrackingConfig, type EyeTrackingConfig } from '../../calibration/index.ts';
import { SceneCamera } from '../../calibration/intrinsics/scene-camera.ts';
import { readSessionIntrinsics } from '../../calibration/intrinsics/session-intrinsics.ts';
import { openPupilModel } from '../../calibration/pupil/cnn-pupil-model.ts';
import { createAsyncPupilDetector } from '../../calibration/pupil/create-async-detector.ts';
import { createPupilDetector } from '../../calibration/pupil/create-detector.ts';
import { greyImageOf } from '../../calibration/pupil/grey-image.ts';
import { PupilTracker } from '../../calibration/pupil/pupil-tracker.ts';
import type { GreyImage } from '../../calibration/pupil/types.ts';
import type { PupilSample } from '../../calibration/session/pupil-sample.ts';
import { createLogger } from '../../device/logger.ts';
import { MetricsRegistry } from '../../device/metrics.ts';
import cv from '../../device/opencv.ts';
import { FramePairer } from '../../device/pairing.ts';
import { REPO_ROOT } from '../../device/paths.ts';
import { FramePipeline, type Stage } from '../../device/pipeline.ts';
import { readSessionManifest, readTimestamps, sessionStreams } from '../../device/session/format.ts';
import { SessionReplay } from '../../device/session/replay.ts';
import { type Db, openDatabase } from '../../storage/db.ts';
import { frameWriter } from '../../storage/frames.ts';
import { SessionRepository } from '../../storage/sessions.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
const SAMPLE = join(ROOT, 'sample/session');

/** Runs stages over a recorded session exactly as the daemon's frame pipeline does. */
export async function replayThroughStages(sessionDir: string, sessionId: string, stages: readonly Stage[], db: Db) {
  const replay = new SessionReplay(sessionDir, 'fast');
  const eyes = (['eye0', 'eye1'] as const).filter((e) => replay.manifest.streams[e] !== undefined);
  const metrics = new MetricsRegistry();
  const pipeline = new FramePipeline(sessionId, new FramePairer(eyes, 20), frameWriter(db), metrics, stages);
  try {
    for await (const frame of replay.frames()) await pipeline.handle(frame);
    for (const e of eyes) await pipeline.streamEnded(e);
    await pipeline.finish();
  } finally {
    replay.close();
  }
  return metrics.summary();
}

let runs = 0;

/** The daemon's eye tracking on one session, as a new session in `dbFile`; returns the open database and the session id. */
export async function runEyeTracking(
  sessionDir: string,
  dbFile: string,
  config: EyeTrackingConfig = defaultEyeTrackingConfig(),
) {
  const db = openDatabase(dbFile);
  const manifest = readSessionManifest(sessionDir);
  const sceneCamera = readSessionIntrinsics(sessionDir);
  const sessionId = `${manifest.id}@${Date.now()}-${++runs}`;
  new SessionRepository(db).start({
    id: sessionId,
    device: 'synthetic',
    source: sessionDir,
    startedWallMs: 0,
    startedTNs: 0n,
  });
  const logger = createLogger(process.env.GLANCE_LOG_LEVEL ?? 'warn');
  const stages = createEyeTrackingStages({ db, sessionId, config, logger, ...(sceneCamera ? { sceneCamera } : {}) });
  const stageMetrics = await replayThroughStages(sessionDir, sessionId, stages, db);
  return { db, sessionId, stageMetrics };
}

/** Pupil detection (detector and per-eye track) on every frame of one eye stream, in frame order. */
export function detectPupils(
  sessionDir: string,
  eye: EyeId,
  config: EyeTrackingConfig = defaultEyeTrackingConfig(),
): PupilSample[] {
  const files = sessionStreams(sessionDir, readSessionManifest(sessionDir)).find((f) => f.stream === eye);
  if (files === undefined) return [];
  const times = readTimestamps(files.timestamps);
  const detector = createPupilDetector(config.detector);
  const tracker = new PupilTracker(config.tracker);
  const cap = new cv.VideoCapture(files.video);
  const out: PupilSample[] = [];
  try {
    for (let i = 0; i < times.length; i++) {
      const mat = cap.read();
      if (mat.empty) break;
      const img = greyImageOf(mat);
      mat.release();
      const tNs = times[i] as bigint;
      const d = tracker.update(detector.detect(img), tNs, img.width);
      out.push({ eye, tNs, confidence: d.confidence, ellipse: d.ellipse, width: img.width, height: img.height });
    }
  } finally {
    cap.release();
  }
  return out;
}

/** Gaze rows of a session, in time order. */
export function readGaze(
  db: Db,
  sessionId: string,
): { tNs: bigint; x: number; y: number; eye: string; confidence: number }[] {
  return db
    .prepare('SELECT t_ns AS tNs, x, y, eye, confidence FROM gaze_samples WHERE session_id = ? ORDER BY t_ns')
    .safeIntegers(true)
    .all(sessionId)
    .map((r) => {
      const row = r as { tNs: bigint; x: number; y: number; eye: string; confidence: number };
      return { ...row, x: Number(row.x), y: Number(row.y), confidence: Number(row.confidence) };
    });
}

/** The settled part of each validation target (the eyes need a moment to land on it). */
export function validationWindows(truth: SessionTruth, settleUs = 400_000) {
  return truth.markers
    .filter((m) => m.kind === 'validation')
    .map((m) => ({ startUs: m.startUs + settleUs, endUs: m.endUs }));
}

/** A synthetic session from the project's generator, into `out` (tools/train, Debian's python3). */
export function generateSession(out: string, args: readonly string[]): void {
  execFileSync('/usr/bin/python3', ['-m', 'glance_train.synth.session', '--out', out, '--quiet', ...args], {
    cwd: join(ROOT, 'tools/train'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The bench's hard sequence: noisy, blurred eye images with ambient reflections; the frame slips at `SLIP_AT_S`. */
const SLIP_AT_S = 18;
const SLIP_RAMP_S = 0.5;
const HARD_ARGS = ['--seconds', '36', '--seed', '11', '--eye-noise', '6', '--eye-blur', '1.2', '--reflections', '3'];
const SLIP_ARGS = ['--slip-at', String(SLIP_AT_S), '--slip-px', '5,-4', '--slip-ramp', String(SLIP_RAMP_S)];

/** Single-threaded pupil detection throughput (grey conversion included, as the stage does it) on 192×192. */
export function benchPupilSpeed(sessionDir = SAMPLE, frames = 600, rounds = 3): Metric[] {
  const files = sessionStreams(sessionDir, readSessionManifest(sessionDir)).find((f) => f.stream === 'eye0');
  if (files === undefined) return [];
  const cap = new cv.VideoCapture(files.video);
  const mats = [];
  for (let i = 0; i < frames; i++) {
    const m = cap.read();
    if (m.empty) break;
    mats.push(m);
  }
  cap.release();
  const threads = cv.getNumThreads();
  cv.setNumThreads(1);
  const config = defaultEyeTrackingConfig();
  const detector = createPupilDetector(config.detector);
  const tracker = new PupilTracker(config.tracker);
  // Per frame, the fastest of the rounds: what the detector costs, without the preemption of a busy machine.
  const latencies = new Float64Array(mats.length).fill(Number.POSITIVE_INFINITY);
  let k = 0;
  for (const m of mats.slice(0, 100)) detector.detect(greyImageOf(m)); // warm the JIT
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const [i, m] of mats.entries()) {
      const t = performance.now();
      const img: GreyImage = greyImageOf(m);
      tracker.update(detector.detect(img), BigInt(r * mats.length + i) * 8_333_333n, img.width);
      latencies[i] = Math.min(latencies[i] as number, performance.now() - t);
      k++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  cv.setNumThreads(threads);
  for (const m of mats) m.release();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const sorted = latencies.slice(0, mats.length).sort();
  return [
    {
      name: 'pupil.fps_per_core',
      value: k / cpuS,
      unit: 'frames/s',
      better: 'higher',
      target: 1000,
      note: `${k} detections at 192x192 in ${cpuS.toFixed(2)} s of CPU (${(k / wallS).toFixed(0)}/s by the wall clock), one thread`,
    },
    {
      name: 'pupil.p99_ms',
      value: sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0,
      unit: 'ms',
      better: 'lower',
      note: `99th percentile over ${sorted.length} frames of each frame's fastest of ${rounds} runs (wall clock)`,
    },
  ];
}

/** Gaze accuracy on a hard synthetic sequence, and after the frame slips, with and without the slippage correction. */
export async function benchGazeAccuracy(): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-eye-bench-'));
  try {
    const session = join(dir, 'session');
    generateSession(session, [...HARD_ARGS, ...SLIP_ARGS]);
    const truth = readSessionTruth(session);
    const scene = new SceneCamera(truth.sceneCamera);
    const config = defaultEyeTrackingConfig();
    const corrected = await runEyeTracking(session, join(dir, 'corrected.db'), config);
    const off = defaultEyeTrackingConfig();
    off.slippage.enabled = false;
    const uncorrected = await runEyeTracking(session, join(dir, 'uncorrected.db'), off);
    const settledUs = (SLIP_AT_S + SLIP_RAMP_S + config.slippage.windowS) * 1e6;
    const afterSlip = truth.fixations.filter((f) => f.startUs >= settledUs);
    const accuracy = gazeAccuracy(readGaze(corrected.db, corrected.sessionId), truth, scene, validationWindows(truth));
    const slipped = gazeAccuracy(readGaze(corrected.db, corrected.sessionId), truth, scene, afterSlip);
    const slippedRaw = gazeAccuracy(readGaze(uncorrected.db, uncorrected.sessionId), truth, scene, afterSlip);
    corrected.db.close();
    uncorrected.db.close();
    const sequence = 'noise σ6, blur 1.2, 3 ambient reflections (generator seed 11)';
    return [
      {
        name: 'gaze.accuracy_deg',
        value: accuracy.accuracyDeg,
        unit: 'deg',
        better: 'lower',
        target: 1.0,
        note: `mean angular error against the true gaze on the 4 held-out validation targets, ${sequence}`,
      },
      {
        name: 'gaze.accuracy_slipped_deg',
        value: slipped.accuracyDeg,
        unit: 'deg',
        better: 'lower',
        target: 1.5,
        baseline: { name: 'gaze.accuracy_slipped_uncorrected_deg', value: slippedRaw.accuracyDeg },
        note: `fixations from ${settledUs / 1e6} s (the frame slipped 5,-4 px at ${SLIP_AT_S} s; the estimate window is ${config.slippage.windowS} s)`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The learnt and the classical detector on the same frames (every `step`-th eye0 frame of the sample): centre
 * error of each against the drawn pupils, and the cnn's throughput per core (onnxruntime with one intra-op
 * thread, batches of 32, best of `rounds`; pre- and post-processing included).
 */
export async function benchPupilDetectors(sessionDir = SAMPLE, step = 4, rounds = 3): Promise<Metric[]> {
  const truth = readSessionTruth(sessionDir);
  const frames = readEyeFrames(sessionDir, 'eye0', step);
  const config = defaultEyeTrackingConfig();
  const model = await openPupilModel();
  try {
    const cnn = createAsyncPupilDetector({ type: 'cnn', model: 'pupil', minOpen: 0.5 }, model.run);
    let best = Number.POSITIVE_INFINITY;
    let run = await runDetector(cnn, frames);
    for (let r = 0; r < rounds; r++) {
      run = await runDetector(cnn, frames);
      best = Math.min(best, run.cpuS);
    }
    const cnnScore = scoreRun(run, truth, frames);
    const classic = scoreRun(await runDetector(createAsyncPupilDetector(config.detector), frames), truth, frames);
    const on = `${cnnScore.frames} open-eye frames (every ${step}th eye0 frame of the sample), confidence >= 0.6`;
    const rate = (s: typeof classic) =>
      `${(100 * s.detectionRate).toFixed(1)}% detected, p95 ${s.p95ErrorPx.toFixed(2)} px`;
    return [
      {
        name: 'pupil.cnn_fps_per_core',
        value: frames.images.length / best,
        unit: 'frames/s',
        better: 'higher',
        note: `${model.model}: ${frames.images.length} frames in ${best.toFixed(2)} s of CPU, batches of 32, one ort thread`,
      },
      {
        name: 'pupil.cnn_median_px',
        value: cnnScore.medianErrorPx,
        unit: 'px',
        better: 'lower',
        baseline: { name: 'pupil.classic_median_px', value: classic.medianErrorPx },
        note: `centre error on ${on}; ${rate(cnnScore)}`,
      },
      {
        name: 'pupil.classic_median_px',
        value: classic.medianErrorPx,
        unit: 'px',
        better: 'lower',
        note: `dark-pupil on the same frames; ${rate(classic)}`,
      },
    ];
  } finally {
    await model.close();
  }
}

/** Everything `glance bench --only eye` reports. */
export async function benchEye(): Promise<Metric[]> {
  return [...benchPupilSpeed(), ...(await benchPupilDetectors()), ...(await benchGazeAccuracy())];
}
