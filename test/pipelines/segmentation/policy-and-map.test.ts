import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../device/config.ts';
import cv from '../../../device/opencv.ts';
import { modelInfo } from '../../../pipelines/segmentation/index.ts';
import { classAt, decodeLogits, type LabelMap } from '../../../pipelines/segmentation/label-map.ts';
import { FixedIntervalPolicy } from '../../../pipelines/segmentation/policy.ts';
import { scaledSize } from '../../../pipelines/segmentation/preprocess.ts';

describe('segmentation: label maps, policy, config', () => {
  it('takes the argmax per pixel and counts the classes', () => {
    // 2 classes, 1×3 pixels: class 1 wins at pixels 0 and 2.
    const logits = new Float32Array([0, 1, -1, 2, 0, 0]);
    const { labels, histogram, confidence } = decodeLogits(logits, 2, 3, 1);
    expect([...labels]).toEqual([1, 0, 1]);
    expect([...histogram]).toEqual([1, 2]);
    const p = (d: number) => 1 / (1 + Math.exp(-d));
    expect(confidence).toBeCloseTo((p(2) + p(1) + p(1)) / 3, 6);
    expect(() => decodeLogits(logits, 3, 3, 1)).toThrow(/expected 3x1x3/);
  });

  it('maps scene pixels onto the label map', () => {
    const labels = new Uint8Array(4 * 3);
    labels[1 * 4 + 3] = 2; // row 1, column 3
    const map: LabelMap = {
      tNs: 0n,
      width: 4,
      height: 3,
      labels,
      classes: ['background', 'ball', 'cup'],
      histogram: new Uint32Array([11, 0, 1]),
      confidence: 1,
      scale: 1,
      model: 'segmentation@test',
    };
    // Scene 640×480: label column 3 covers x in [480, 640), row 1 covers y in [160, 320).
    expect(classAt(map, 500, 200, 640, 480)).toBe('cup');
    expect(classAt(map, 479, 200, 640, 480)).toBe('background');
    expect(classAt(map, 639.9, 319, 640, 480)).toBe('cup');
    expect(classAt(map, 640, 200, 640, 480)).toBeNull();
    expect(classAt(map, Number.NaN, 200, 640, 480)).toBeNull();
  });

  it('runs every Nth frame at its scale', async () => {
    const p = new FixedIntervalPolicy(3, 0.5);
    const scene = new cv.Mat(4, 4, cv.CV_8UC3);
    const runs = [];
    for (let i = 0; i < 7; i++) runs.push(await p.decide({ index: i, tNs: BigInt(i), scene, last: null }));
    scene.release();
    expect(runs.map((d) => d.run)).toEqual([true, false, false, true, false, false, true]);
    expect(new Set(runs.map((d) => d.scale))).toEqual(new Set([0.5]));
    expect(() => new FixedIntervalPolicy(0, 1)).toThrow(/positive integer/);
  });

  it('rounds scaled input sizes like the toolchain', () => {
    const base = { width: 160, height: 120 };
    expect(scaledSize(base, 0.75)).toEqual({ width: 120, height: 90 });
    expect(scaledSize(base, 0.25)).toEqual({ width: 40, height: 30 });
  });

  it('is off by default and rejects a scale it cannot run', () => {
    expect(parseConfig({}).segmentation).toEqual({
      enabled: false,
      model: 'segmentation',
      everyNthFrame: 3,
      scale: 1,
      policy: 'fixed',
    });
    expect(parseConfig({ segmentation: { policy: 'both' } }).segmentation.policy).toBe('both');
    expect(() => parseConfig({ segmentation: { policy: 'rl' } })).toThrow(/segmentation\.policy/);
    expect(() => parseConfig({ segmentation: { scale: 0.3 } })).toThrow(/segmentation\.scale/);
    expect(() => parseConfig({ segmentation: { everyNth: 2 } })).toThrow(/everyNth/);
  });

  it('refuses a manifest that does not state what the stage feeds', () => {
    const good = {
      inputs: [{ name: 'image', normalisation: { channels: 'BGR', resize: { width: 160, height: 120 } } }],
      outputs: [{ name: 'logits' }],
      labels: { logits: ['background', 'ball'] },
    };
    expect(modelInfo('segmentation', good).base).toEqual({ width: 160, height: 120 });
    const rgb = {
      ...good,
      inputs: [{ name: 'image', normalisation: { channels: 'RGB', resize: { width: 160, height: 120 } } }],
    };
    expect(() => modelInfo('segmentation', rgb)).toThrow(/channels RGB/);
    expect(() => modelInfo('segmentation', { ...good, labels: {} })).toThrow(/labels\.logits/);
  });
});
