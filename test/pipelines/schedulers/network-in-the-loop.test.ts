import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import { compareVersions } from '../../../models/versions.ts';
import { FixedRateScheduler } from '../../../pipelines/schedulers/baselines.ts';
import { KeyFrameScheduler } from '../../../pipelines/schedulers/key-frame-scheduler.ts';
import { ResolutionChooser } from '../../../tools/keyframe/resolution-chooser.ts';
import {
  evaluateChooser,
  fixedScaleChooser,
  keyChooser,
  medianCosts,
  type NetScheduleQuality,
} from '../../../tools/keyframe/schedule-eval.ts';
import { type SegmentedSequence, segmentSequence } from '../../../tools/keyframe/segmented-sequence.ts';
import { POLICY_SEGMENTATION_VERSION, ZooSegmenter } from '../../../tools/keyframe/segmenter.ts';
import { generateSequences } from '../../../tools/keyframe/sequences.ts';
import { ROOT, tmp } from '../../helpers/cli.ts';

const ZOO = join(ROOT, 'models/zoo');
const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
/** Seeds no training split uses (train 1000.., validation 2000.., test 3000.., bench 8000..). */
const HELD_OUT_SEED = 9000;
const FRAMES = 64;

/**
 * The schedulers with the zoo segmentation network in the loop (onnxruntime-node), on held-out synthetic
 * sequences: key frames take the network's output, other frames warp it by the device's flow; mIoU against the
 * masks and agreement with the network's full-scale output on every frame (the papers' reference).
 */
describe('schedulers with the segmentation network in the loop', () => {
  let registry: ModelRegistry;
  let seg: ZooSegmenter;
  let dir: string;
  let seqs: SegmentedSequence[];
  let costs: number[];

  beforeAll(async () => {
    registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
    for (const l of await registry.start(['keyframe', 'resolution-policy'])) {
      if (!l?.ok) throw new Error(`a policy did not load: ${JSON.stringify(l)}`);
    }
    seg = await ZooSegmenter.open(ZOO, POLICY_SEGMENTATION_VERSION);
    dir = tmp('glance-netloop-');
    seqs = [];
    for (const d of generateSequences(dir, HELD_OUT_SEED, 3, FRAMES)) seqs.push(await segmentSequence(d, seg));
    costs = medianCosts(seqs);
  }, 300_000);

  afterAll(async () => {
    await seg?.close();
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let every: Promise<NetScheduleQuality> | undefined;
  const everyFrame = () => {
    every ??= evaluateChooser(seqs, () => fixedScaleChooser(0), costs);
    return every;
  };

  it('runs the segmentation network the daemon serves (the newest in the zoo)', () => {
    const newest = readdirSync(join(ZOO, 'segmentation')).sort(compareVersions).at(-1);
    expect(POLICY_SEGMENTATION_VERSION).toBe(newest);
    expect(seg.model).toBe(`segmentation@${newest}`);
  });

  it('measures each scale in onnxruntime: smaller inputs cost less', () => {
    expect(costs[0]).toBeGreaterThan(costs[2] as number);
    expect(costs[2]).toBeGreaterThan(costs[3] as number);
  });

  it('every frame at full scale agrees with itself; propagation by flow does not', async () => {
    const e = await everyFrame();
    expect(e.miouRef).toBe(1);
    expect(e.compute).toBe(1);
    const fixed = await evaluateChooser(seqs, () => keyChooser(new FixedRateScheduler(1 / 3)), costs);
    expect(fixed.runShare).toBeCloseTo(22 / 64, 6);
    expect(fixed.miouRef).toBeLessThan(0.99);
  }, 120_000);

  /** The RL key scheduler and a fixed interval with the same number of keys per sequence, computed once. */
  let keyed: Promise<{ rl: NetScheduleQuality; fixed: NetScheduleQuality }> | undefined;
  const compareKeys = () => {
    keyed ??= (async () => {
      const rl = await evaluateChooser(
        seqs,
        () => keyChooser(new KeyFrameScheduler((f) => registry.run('keyframe', f))),
        costs,
      );
      const rate = (rl.runShare * FRAMES - 1) / (FRAMES - 1);
      const fixed = await evaluateChooser(seqs, () => keyChooser(new FixedRateScheduler(rate)), costs);
      return { rl, fixed };
    })();
    return keyed;
  };

  // Measured with segmentation@1.1.0: 81.2% of the compute saved, 0.7525 against 0.7609 for every frame at full
  // scale (masks): 0.84 points lost, just inside the point (on the toolchain's held-out split it is 1.66 points).
  // With 1.0.0, a weaker network whose own flicker hid the warp's loss, it was +0.22.
  it('the RL key scheduler saves at least 60% of segmentation compute within a point of every frame', async () => {
    const { rl } = await compareKeys();
    const e = await everyFrame();
    expect(1 - rl.compute).toBeGreaterThanOrEqual(0.6);
    expect(100 * (e.miouTruth - rl.miouTruth)).toBeLessThanOrEqual(1);
  }, 300_000);

  // The paper's claim does not hold here: with segmentation@1.1.0 keyframe@1.0.0 scores 0.7525 against the masks
  // (agreement 0.915) and a fixed interval with the same keys 0.7549 (0.909); on the toolchain's held-out split
  // +0.02 / +0.32 points (docs/schedulers.md): no reliable difference. The retrained keyframe 1.1.0 (reward
  // against the every-frame network) lost on validation and is not published.
  it.fails('the RL key scheduler beats a fixed interval at its key rate', async () => {
    const { rl, fixed } = await compareKeys();
    expect(rl.miouTruth).toBeGreaterThan(fixed.miouTruth);
    expect(rl.miouRef).toBeGreaterThan(fixed.miouRef);
  }, 300_000);

  it('the RL resolution policy keeps full-scale quality within a point for less compute', async () => {
    const e = await everyFrame();
    const rp = await evaluateChooser(
      seqs,
      () => new ResolutionChooser((f) => registry.run('resolution-policy', f)),
      costs,
    );
    const same = await evaluateChooser(seqs, () => keyChooser(new FixedRateScheduler(rp.compute)), costs);
    // Measured with segmentation@1.1.0: 0.7607 vs 0.7609 at 0.510 of the compute (never a lower scale); a fixed
    // interval at that compute 0.7625 — no win, so the last line asks only that it is not worse by half a point.
    expect(100 * (e.miouTruth - rp.miouTruth)).toBeLessThanOrEqual(1);
    expect(rp.compute).toBeLessThan(1);
    expect(rp.miouTruth).toBeGreaterThanOrEqual(same.miouTruth - 0.005);
  }, 300_000);
});
