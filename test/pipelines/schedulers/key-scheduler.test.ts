import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cv from '../../../device/opencv.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import { FixedRateScheduler } from '../../../pipelines/schedulers/baselines.ts';
import { KeyFrameScheduler } from '../../../pipelines/schedulers/key-frame-scheduler.ts';
import { evaluateSchedule, type ScheduleQuality } from '../../../tools/keyframe/evaluate.ts';
import { generateSequences, type LabelledSequence, readSequence } from '../../../tools/keyframe/sequences.ts';
import { ROOT, SAMPLE, tmp } from '../../helpers/cli.ts';

const ZOO = join(ROOT, 'models/zoo');
const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
/** Seeds no training split uses (train 1000.., validation 2000.., test 3000..). */
const HELD_OUT_SEED = 9000;
const FRAMES = 64;

describe('the RL key-frame scheduler with the zoo policy', () => {
  let registry: ModelRegistry;
  let dir: string;
  let sequences: LabelledSequence[];

  beforeAll(async () => {
    registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
    const [outcome] = await registry.start(['keyframe']);
    if (!outcome?.ok) throw new Error(`keyframe policy did not load: ${JSON.stringify(outcome)}`);
    dir = tmp('glance-keyframe-');
    sequences = generateSequences(dir, HELD_OUT_SEED, 3, FRAMES).map(readSequence);
  }, 300_000);

  afterAll(async () => {
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scheduler = () => new KeyFrameScheduler((feeds) => registry.run('keyframe', feeds));

  /** The RL schedule and a fixed interval with the same number of keys per sequence, computed once. */
  let compared: Promise<{ rl: ScheduleQuality; fixed: ScheduleQuality }> | undefined;
  const compare = () => {
    compared ??= (async () => {
      const rl = await evaluateSchedule(sequences, scheduler);
      // Frame 0 is a key for both; the fixed schedule spreads the same number of keys evenly over the rest.
      const rate = (rl.keyRate * FRAMES - 1) / (FRAMES - 1);
      return { rl, fixed: await evaluateSchedule(sequences, () => new FixedRateScheduler(rate)) };
    })();
    return compared;
  };

  it('saves over 60% of segmentation runs and stays within a point of a fixed interval at its key rate', async () => {
    const { rl, fixed } = await compare();
    expect(rl.keyRate).toBeLessThan(0.4);
    expect(Math.abs(fixed.keyRate - rl.keyRate)).toBeLessThanOrEqual(1.5 / FRAMES);
    expect(Math.abs(rl.miou - fixed.miou)).toBeLessThan(0.01);
  }, 300_000);

  // The paper's claim (beats a fixed interval at the same key rate) is judged with the segmentation network in
  // the loop in network-in-the-loop.test.ts. Here, with the ground truth as every key's result (propagation loss
  // only), its sign flipped when the sequences were re-rendered with rarer head turns: no reliable difference.

  it('schedules the sample session’s scene video and reports its key share and the model time saved', async () => {
    const policy = scheduler();
    const cap = new cv.VideoCapture(join(SAMPLE, 'scene.mp4'));
    let decisions = 0;
    let propagated = 0;
    try {
      for (let i = 0; i < 60; i++) {
        const frame = cap.read();
        if (frame.empty) break;
        try {
          const d = await policy.decide({ index: i, tNs: BigInt(i) * 33_333_333n, scene: frame, last: null });
          decisions++;
          if (d.run) policy.noteModelRun(40);
          else {
            propagated++;
            expect(d.flow?.width).toBe(160);
            expect(d.flow?.height).toBe(120);
          }
        } finally {
          frame.release();
        }
      }
    } finally {
      cap.release();
    }
    const stats = policy.stats();
    expect(decisions).toBe(60);
    expect(stats.frames).toBe(60);
    expect(stats.keyFrames).toBe(60 - propagated);
    expect(stats.keyShare).toBeGreaterThan(0);
    expect(stats.keyShare).toBeLessThan(1); // the sample's scene camera is still: most frames propagate
    expect(stats.modelMsSaved).toBeCloseTo(propagated * 40, 6);
    expect(policy.model).toBe('keyframe@1.2.0');
  }, 120_000);
});
