import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cv, { type Mat } from '../../../device/opencv.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import {
  DIFF_SCALE,
  FEATURE_SCALES,
  FEATURE_SIZE,
  featureGrey,
  MAX_AGE,
  RESOLUTION_FEATURES,
  resolutionState,
  TRAINING_FRAME,
} from '../../../pipelines/schedulers/resolution-features.ts';
import { ResolutionPolicy, resolutionModelInfo } from '../../../pipelines/schedulers/resolution-policy.ts';
import type { LastSegmentation } from '../../../pipelines/segmentation/policy.ts';
import { OPENCV_DATA, ROOT, tmp } from '../../helpers/cli.ts';

/** A state the device computed, and what the toolchain's state_of must give for the same frames. */
interface Case {
  t: number;
  key: number;
  keyScale: number;
  battery: number;
  confidence: number;
  state: number[];
}

const FRAMES = 8;
/**
 * One training frame apart, so ages and "previous frame" are the toolchain's: the serving version's training
 * frame rate (its manifest: 10 fps for 1.0.0's sequences, 30 fps for 1.1.0's) sets the spacing.
 */
const frameNs = (info: { fps: number }): bigint => BigInt(Math.round(1e9 / info.fps));

/**
 * Runs the toolchain's own feature code on the PNGs: trace_sequence (traces.py) computes the 40×30 grey of every
 * frame (with a stand-in network: only its grey frames are used, confidences come from the device side), then
 * state_of (resolution_policy.py) builds each case's state. Also returns the constants the device copied.
 */
function toolchainStates(dir: string, cases: Case[]) {
  const script = `
import json, sys
import cv2, numpy as np, torch
torch.set_num_threads(1)
from glance_train.seg.compare import SCALES
from glance_train.seg.resolution_policy import DIFF_SCALE, FEATURES, state_of
from glance_train.seg.sequences import SequenceConfig
from glance_train.seg.traces import FEATURE_SIDE, MAX_AGE, Trace, trace_sequence
from glance_train.keyframe.sequences import FPS as KEYFRAME_FPS
d, cases = sys.argv[1], json.loads(sys.argv[2])
images = np.stack([cv2.imread(f"{d}/{i}.png") for i in range(${FRAMES})])
masks = np.zeros(images.shape[:3], np.uint8)
stub = lambda x: torch.zeros(x.shape[0], 6, x.shape[2], x.shape[3])
tr = trace_sequence(stub, images, masks)
out = []
for c in cases:
    conf = np.zeros_like(tr.confidence)
    conf[c["key"], c["keyScale"]] = c["confidence"]
    t = Trace(tr.quality, tr.reuse, conf, tr.grey)
    out.append(state_of(t, c["t"], c["key"], c["keyScale"], c["battery"]).tolist())
cfg = SequenceConfig()
print(json.dumps({"states": out, "maxAge": MAX_AGE, "diffScale": DIFF_SCALE, "side": list(FEATURE_SIDE),
                  "features": list(FEATURES), "scales": list(SCALES), "frame": [cfg.width, cfg.height], "fps": [cfg.fps, KEYFRAME_FPS]}))
`;
  const stdout = execFileSync('/usr/bin/python3', ['-c', script, dir, JSON.stringify(cases)], {
    cwd: join(ROOT, 'tools/train'),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as {
    states: number[][];
    maxAge: number;
    diffScale: number;
    side: [number, number];
    features: string[];
    scales: number[];
    frame: [number, number];
    fps: number[];
  };
}

describe('the resolution policy on the device', () => {
  let dir: string;
  const frames: Mat[] = [];
  let registry: ModelRegistry;

  beforeAll(async () => {
    // Real video (people walking in vtest.avi), every 3rd frame, shrunk to the training frames' size and kept as
    // PNG so both sides read the same pixels.
    dir = tmp('glance-resfeat-');
    const cap = new cv.VideoCapture(join(OPENCV_DATA, 'vtest.avi'));
    try {
      for (let i = 0; frames.length < FRAMES; i++) {
        const m = cap.read();
        if (m.empty) throw new Error('vtest.avi ended early');
        if (i % 3 === 0) {
          const small = m.resize(TRAINING_FRAME.height, TRAINING_FRAME.width, 0, 0, cv.INTER_AREA);
          cv.imwrite(join(dir, `${frames.length}.png`), small);
          frames.push(small);
        }
        m.release();
      }
    } finally {
      cap.release();
    }
    const config = defaultModelsConfig();
    registry = new ModelRegistry({ config, trustedKeys: config.trustedKeys.map(readTrustedKey) });
    const [outcome] = await registry.start(['resolution-policy']);
    if (!outcome?.ok) throw new Error(`resolution-policy did not load: ${JSON.stringify(outcome)}`);
  });

  afterAll(async () => {
    for (const m of frames) m.release();
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('computes the features the toolchain trained on (parity with state_of on the same frames)', async () => {
    // 1. The policy itself, run like the stage runs it; its state vectors are captured on their way to the model.
    const manifest = registry.servingModel('resolution-policy')?.manifest;
    if (!manifest) throw new Error('not serving');
    const fed: Float32Array[] = [];
    const policy = new ResolutionPolicy(async (feeds: ort.InferenceSession.FeedsType) => {
      fed.push(Float32Array.from(feeds.state?.data as Float32Array));
      return registry.run('resolution-policy', feeds);
    }, resolutionModelInfo(manifest));
    const cases: Case[] = [];
    let last: LastSegmentation | null = null;
    let key = -1;
    const battery = [0.35, 0.8, 1, 0.2, 0.5, 0.9, 0.6, 0.7];
    for (const [t, scene] of frames.entries()) {
      const tNs = BigInt(t) * frameNs(resolutionModelInfo(manifest));
      const d = await policy.decide({ index: t, tNs, scene, last, battery: battery[t] as number });
      cases.push({
        t,
        key,
        keyScale: last ? FEATURE_SCALES.indexOf(last.scale) : 0,
        battery: battery[t] as number,
        confidence: last?.confidence ?? 0,
        state: [...(fed.at(-1) ?? [])],
      });
      if (d.run) {
        key = t;
        last = { tNs, scale: d.scale, confidence: 0.9 - 0.02 * t }; // what the stage would report
      }
    }
    // 2. Direct: every key scale's one-hot, long ages, no key.
    const grey = frames.map(featureGrey);
    expect(grey[0]?.length).toBe(FEATURE_SIZE.width * FEATURE_SIZE.height);
    for (const [t, k, ks] of [
      [5, 1, 1],
      [6, 4, 2],
      [7, 0, 3],
      [3, -1, 0],
    ] as const) {
      const last: LastSegmentation = { tNs: 0n, scale: FEATURE_SCALES[ks], confidence: 0.61 };
      const state = resolutionState(
        grey[t] as Float32Array,
        grey[t - 1] ?? null,
        k < 0 ? null : { grey: grey[k] as Float32Array, age: t - k, last },
        0.4,
      );
      cases.push({ t, key: k, keyScale: ks, battery: 0.4, confidence: 0.61, state: [...state] });
    }
    const py = toolchainStates(dir, cases);
    // The constants the device copied are the toolchain's.
    expect(py.features).toEqual([...RESOLUTION_FEATURES]);
    expect(py.maxAge).toBe(MAX_AGE);
    expect(py.diffScale).toBe(DIFF_SCALE);
    expect(py.side).toEqual([FEATURE_SIZE.width, FEATURE_SIZE.height]);
    expect(py.scales).toEqual([...FEATURE_SCALES]);
    expect(py.frame).toEqual([TRAINING_FRAME.width, TRAINING_FRAME.height]);
    // The version trained on the segmentation sequences (10 fps) or the key-frame sequences (30 fps).
    expect(py.fps).toContain(resolutionModelInfo(manifest).fps);
    let worst = 0;
    for (const [i, c] of cases.entries()) {
      const want = py.states[i] as number[];
      expect(c.state).toHaveLength(want.length);
      for (let f = 0; f < want.length; f++)
        worst = Math.max(worst, Math.abs((c.state[f] as number) - (want[f] as number)));
    }
    // The diffs are ×100 of a mean over 1,200 grey/255 pixels: one grey level on one pixel is 3e-4.
    expect(worst).toBeLessThan(1e-4);
    // The frames move (people walk), so the content features are not trivially zero.
    expect(Math.max(...cases.map((c) => c.state[1] as number))).toBeGreaterThan(0.1);
  }, 120_000);

  it('masks reuse when there is no map or it is too old, and refuses a manifest with other features', async () => {
    const manifest = registry.servingModel('resolution-policy')?.manifest;
    if (!manifest) throw new Error('not serving');
    const info = resolutionModelInfo(manifest);
    expect(info.actions).toEqual([
      { kind: 'scale', scale: 1 },
      { kind: 'scale', scale: 0.75 },
      { kind: 'scale', scale: 0.5 },
      { kind: 'scale', scale: 0.25 },
      { kind: 'reuse' },
    ]);
    const policy = new ResolutionPolicy((feeds) => registry.run('resolution-policy', feeds), info);
    const scene = frames[0] as Mat;
    // No map yet: the network must run.
    expect((await policy.decide({ index: 0, tNs: 0n, scene, last: null })).run).toBe(true);
    // A map older than MAX_AGE training frames may not be reused.
    const stale: LastSegmentation = { tNs: 0n, scale: 1, confidence: 0.99 };
    const FRAME_NS = frameNs(info);
    const old = await policy.decide({ index: 1, tNs: BigInt(MAX_AGE + 1) * FRAME_NS, scene, last: stale });
    expect(old.run).toBe(true);
    // Within the window, the same unchanged frame with a confident map: the zoo policy reuses.
    const fresh: LastSegmentation = { tNs: BigInt(MAX_AGE + 1) * FRAME_NS, scale: 1, confidence: 0.99 };
    const same = await policy.decide({ index: 2, tNs: BigInt(MAX_AGE + 2) * FRAME_NS, scene, last: fresh });
    expect(same.run).toBe(false);
    expect(policy.model).toMatch(/^resolution-policy@/);
    // The serving version was trained with reuse = the last map warped by flow: the reuse decision carries the
    // flow (the same frame, so it barely moves); a version trained on keeping the map gets none.
    expect(info.reuseWarps).toBe(true);
    expect(same.flow?.width).toBe(160);
    const flowMax = Math.max(...(same.flow?.dx ?? []).map(Math.abs), ...(same.flow?.dy ?? []).map(Math.abs));
    expect(flowMax).toBeLessThan(0.5);
    expect(resolutionModelInfo({ ...manifest, description: 'or reuse the last label map' }).reuseWarps).toBe(false);
    const other = {
      ...manifest,
      inputs: [{ ...manifest.inputs[0], name: 'state', meaning: 'features in this order: a, b; rest' }],
    };
    expect(() => resolutionModelInfo(other)).toThrow(/lists features \[a, b\]/);
  }, 60_000);
});
