/**
 * EMOShip's numbers: the held-out accuracy of the emotionship-aware model against the eye-only one (from their
 * manifests: measured by the toolchain on the same held-out synthetic windows), and what the emotion stage costs
 * per second of eye video: per step (4 Hz) an eye crop and a pupil measurement, per inference (rateHz) one run of
 * the model, both measured here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultEyeTrackingConfig } from '../../calibration/config.ts';
import { createPupilDetector } from '../../calibration/pupil/create-detector.ts';
import { greyImageOf } from '../../calibration/pupil/grey-image.ts';
import cv from '../../device/opencv.ts';
import { REPO_ROOT } from '../../device/paths.ts';
import { compareVersions } from '../../models/versions.ts';
import { emotionConfigSchema } from '../../pipelines/emotion/config.ts';
import { eyeInput } from '../../pipelines/emotion/inputs.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
/** The version the daemon would serve: the newest in the zoo. */
function zoo(name: string): string {
  const dir = join(ROOT, 'models/zoo', name);
  const newest = readdirSync(dir)
    .filter((v) => existsSync(join(dir, v, 'manifest.json')))
    .sort(compareVersions)
    .at(-1);
  if (newest === undefined) throw new Error(`no version of ${name} in models/zoo`);
  return join(dir, newest);
}

function heldOutAccuracy(name: string): number {
  const m = JSON.parse(readFileSync(join(zoo(name), 'manifest.json'), 'utf8'));
  return Number(m.metrics.heldOut.test_accuracy);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function inferenceMs(name: string, runs = 60): Promise<number> {
  const session = await ort.InferenceSession.create(readFileSync(join(zoo(name), 'model.onnx')), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const feeds: Record<string, ort.Tensor> = {
    eye: new ort.Tensor('float32', new Float32Array(16 * 32 * 32).fill(0.4), [1, 16, 32, 32]),
    pupil: new ort.Tensor('float32', new Float32Array(32), [1, 16, 2]),
  };
  if (session.inputNames.includes('scene')) {
    feeds.scene = new ort.Tensor('float32', new Float32Array(16 * 3 * 32 * 32).fill(0.5), [1, 16, 3, 32, 32]);
  }
  const times: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    if (i >= 10) times.push(performance.now() - t0);
  }
  await session.release();
  return median(times);
}

/** One step's eye work: the 32×32 crop and a pupil measurement, on a 192×192 eye frame from OpenCV. */
function stepMs(runs = 200): number {
  const mat = new cv.Mat(192, 192, cv.CV_8UC3, [90, 90, 90]);
  mat.drawEllipse(new cv.RotatedRect(new cv.Point2(96, 100), new cv.Size(40, 36), 0), new cv.Vec3(20, 20, 20), -1);
  const detector = createPupilDetector(defaultEyeTrackingConfig().detector);
  const out = new Float32Array(32 * 32);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      eyeInput(mat, 32, out);
      detector.detect(greyImageOf(mat));
      times.push(performance.now() - t0);
    }
  } finally {
    mat.release();
  }
  return median(times);
}

export async function benchEmotion(): Promise<Metric[]> {
  const config = emotionConfigSchema.parse({});
  const stepHz = 4;
  const infer = await inferenceMs(config.model);
  const step = stepMs();
  const msPerS = stepHz * step + config.rateHz * infer;
  const eye = heldOutAccuracy('emotion-eye');
  return [
    {
      name: 'emotion.accuracy',
      value: heldOutAccuracy('emotion-ship'),
      unit: 'fraction',
      better: 'higher',
      baseline: { name: 'emotion.eye_only_accuracy', value: eye },
      note: 'held-out synthetic EMO-Film windows, unseen wearers (manifests); paper: 0.802 vs 0.694 on real data',
    },
    { name: 'emotion.eye_only_accuracy', value: eye, unit: 'fraction', better: 'higher' },
    {
      name: 'emotion.inference_ms',
      value: infer,
      unit: 'ms',
      better: 'lower',
      note: `${config.model}@${basename(zoo(config.model))}, batch 1, 1 thread`,
    },
    {
      name: 'emotion.stage_ms_per_s',
      value: msPerS,
      unit: 'ms/s',
      better: 'lower',
      note: `${stepHz} steps/s x ${step.toFixed(2)} ms (crop + pupil) + ${config.rateHz} inferences/s`,
    },
    { name: 'emotion.frame_budget_share', value: msPerS / 1000, unit: 'fraction of one core', better: 'lower' },
  ];
}
