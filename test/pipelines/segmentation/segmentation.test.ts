import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../device/frames.ts';
import cv from '../../../device/opencv.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import {
  createSegmentationStage,
  FixedIntervalPolicy,
  type SegmentationStage,
} from '../../../pipelines/segmentation/index.ts';
import { glance, SAMPLE, tmp } from '../../helpers/cli.ts';

/**
 * The zoo's segmentation network through the stage on real decoded frames of the sample session (H.264, so not the
 * renderer's pixels), against the generator's boxes of the object the wearer attends to: inside that box the label
 * map's most frequent object class must be the object's class.
 */
interface SceneTruth {
  attended: number[];
  objects: { id: number; cls: string; bbox: [number, number, number, number][]; visible: number[] }[];
}

const STEP = 6; // every 6th frame with an attended object: ~50 frames, a few seconds of inference

function readFrames(indices: Set<number>): Map<number, Frame> {
  const cap = new cv.VideoCapture(join(SAMPLE, 'scene.mp4'));
  const out = new Map<number, Frame>();
  const last = Math.max(...indices);
  try {
    for (let i = 0; i <= last; i++) {
      const mat = cap.read();
      if (mat.empty) break;
      if (indices.has(i))
        out.set(i, { stream: 'scene', index: i, tNs: BigInt(i) * 33_333_333n, width: mat.cols, height: mat.rows, mat });
      else mat.release();
    }
  } finally {
    cap.release();
  }
  return out;
}

describe('segmentation stage on the sample session', () => {
  let registry: ModelRegistry;
  let truth: SceneTruth;
  let frames: Map<number, Frame>;

  beforeAll(() => {
    const config = defaultModelsConfig();
    registry = new ModelRegistry({ config, trustedKeys: config.trustedKeys.map(readTrustedKey) });
    truth = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')).scene as SceneTruth;
    const wanted = truth.attended
      .map((id, i) => ({ id, i }))
      .filter(({ id, i }) => id >= 0 && (truth.objects[id]?.visible[i] ?? 0) >= 0.8)
      .filter((_, k) => k % STEP === 0)
      .map(({ i }) => i);
    frames = readFrames(new Set(wanted));
  });

  afterAll(async () => {
    for (const f of frames?.values() ?? []) f.mat.release();
    await registry?.close();
  });

  async function segmentAll(stage: SegmentationStage): Promise<{ hits: number; total: number; classes: string[] }> {
    let hits = 0;
    let total = 0;
    const seen: string[] = [];
    for (const [i, frame] of frames) {
      await stage.onScene({ scene: frame, eye0: null, eye1: null });
      const map = stage.latest();
      expect(map?.tNs).toBe(frame.tNs);
      if (!map) continue;
      const obj = truth.objects[truth.attended[i] as number];
      if (!obj) continue;
      const [x, y, w, h] = obj.bbox[i] as [number, number, number, number];
      const counts = new Map<string, number>();
      // Label pixels whose centres fall inside the box (the box is in 640×480 scene pixels).
      for (let r = 0; r < map.height; r++) {
        const sy = ((r + 0.5) * frame.height) / map.height;
        if (sy < y || sy >= y + h) continue;
        for (let c = 0; c < map.width; c++) {
          const sx = ((c + 0.5) * frame.width) / map.width;
          if (sx < x || sx >= x + w) continue;
          const cls = map.classes[map.labels[r * map.width + c] as number] as string;
          if (cls !== 'background') counts.set(cls, (counts.get(cls) ?? 0) + 1);
        }
      }
      const top = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'background';
      seen.push(top);
      total++;
      if (top === obj.cls) hits++;
    }
    return { hits, total, classes: seen };
  }

  it('finds the attended object’s class inside its box on most frames at full scale', async () => {
    const stage = await createSegmentationStage(registry, {
      enabled: true,
      model: 'segmentation',
      everyNthFrame: 1,
      scale: 1,
    });
    const { hits, total } = await segmentAll(stage);
    expect(total).toBeGreaterThan(30);
    expect(hits / total).toBeGreaterThanOrEqual(0.8);
    const report = stage.report();
    expect(report.framesSegmented).toBe(frames.size);
    expect(report.byScale['1']?.frames).toBe(frames.size);
    expect(report.model).toMatch(/^segmentation@/);
    // classAt reads the same map in scene pixels: the centre of the last attended box has a class.
    const map = stage.latest();
    expect(map?.width).toBe(160);
    expect(stage.classAt(-1, 5)).toBeNull();
    expect(map?.classes).toContain(stage.classAt(320, 240));
    const sum = map ? [...map.histogram].reduce((a, b) => a + b, 0) : 0;
    expect(sum).toBe(160 * 120);
  }, 120_000);

  it('runs at every scale the policy asks for, with label maps of that size', async () => {
    const sizes: Record<number, [number, number]> = { 0.75: [120, 90], 0.5: [80, 60], 0.25: [40, 30] };
    const [first] = frames.values();
    if (!first) throw new Error('no frames');
    for (const [scale, [w, h]] of Object.entries(sizes)) {
      const s = Number(scale) as 0.75 | 0.5 | 0.25;
      const stage = await createSegmentationStage(
        registry,
        { enabled: true, model: 'segmentation', everyNthFrame: 1, scale: s },
        new FixedIntervalPolicy(1, s),
      );
      await stage.onScene({ scene: first, eye0: null, eye1: null });
      expect([stage.latest()?.width, stage.latest()?.height]).toEqual([w, h]);
      expect(stage.latest()?.scale).toBe(s);
    }
  }, 60_000);

  it('skips the frames the fixed-interval policy skips', async () => {
    const stage = await createSegmentationStage(registry, {
      enabled: true,
      model: 'segmentation',
      everyNthFrame: 4,
      scale: 0.5,
    });
    const few = [...frames.values()].slice(0, 9);
    for (const f of few) await stage.onScene({ scene: f, eye0: null, eye1: null });
    const r = stage.report();
    expect(r.framesSeen).toBe(9);
    expect(r.framesSegmented).toBe(3); // frames 0, 4 and 8
    expect(stage.latest()?.tNs).toBe(few[8]?.tNs);
  }, 60_000);
});

describe('glance run with segmentation enabled', () => {
  it('segments every Nth scene frame of the sample session and reports it in the summary', () => {
    const dir = tmp('glance-seg-run-');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'segmentation:\n  enabled: true\n  everyNthFrame: 30\n  scale: 0.5\n');
    const summaryFile = join(dir, 'summary.json');
    const r = glance([
      'run',
      '--once',
      '--config',
      config,
      '--db',
      join(dir, 'glance.db'),
      '--data-dir',
      dir,
      '--summary',
      summaryFile,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    const report = summary.stageStats.segmentation;
    expect(report.framesSeen).toBe(summary.frames.scene.processed);
    expect(report.framesSegmented).toBe(Math.ceil(report.framesSeen / 30));
    expect(report.byScale['0.5'].frames).toBe(report.framesSegmented);
    expect(report.modelMs).toBeGreaterThan(0);
    expect(summary.models).toContain('segmentation@1.1.0'); // the newest zoo version (multi-seed run, docs/segmentation.md)
    expect(summary.errors.count).toBe(0);
  }, 120_000);
});
