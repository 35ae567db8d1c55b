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
 * masks and agreement with the network's full-scale output on every frame (the papers' reference). Two head-motion
 * profiles (glance_train.keyframe.head_motion): the original drift and short turns (`seqs`; what the resolution
 * policy was trained on) and the eyewear still / pursuit / head-turn model (`eyewear`; what the served key
 * scheduler was trained on), same seeds.
 */
describe('schedulers with the segmentation network in the loop', () => {
  let registry: ModelRegistry;
  let seg: ZooSegmenter;
  let dir: string;
  let seqs: SegmentedSequence[];
  let eyewear: SegmentedSequence[];
  let costs: number[];
  let eyewearCosts: number[];

  beforeAll(async () => {
    registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
    for (const l of await registry.start(['keyframe', 'resolution-policy'])) {
      if (!l?.ok) throw new Error(`a policy did not load: ${JSON.stringify(l)}`);
    }
    seg = await ZooSegmenter.open(ZOO, POLICY_SEGMENTATION_VERSION);
    dir = tmp('glance-netloop-');
    seqs = [];
    for (const d of generateSequences(join(dir, 'drift'), HELD_OUT_SEED, 3, FRAMES, 'drift-turns')) {
      seqs.push(await segmentSequence(d, seg));
    }
    costs = medianCosts(seqs);
    eyewear = [];
    for (const d of generateSequences(join(dir, 'eyewear'), HELD_OUT_SEED, 3, FRAMES, 'eyewear')) {
      eyewear.push(await segmentSequence(d, seg));
    }
    eyewearCosts = medianCosts(eyewear);
  }, 600_000);

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
  let everyEyewear: Promise<NetScheduleQuality> | undefined;
  const everyFrameEyewear = () => {
    everyEyewear ??= evaluateChooser(eyewear, () => fixedScaleChooser(0), eyewearCosts);
    return everyEyewear;
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

  /** The served RL key scheduler and a fixed interval with the same keys per sequence, once per profile. */
  const keyed = new Map<string, Promise<{ rl: NetScheduleQuality; fixed: NetScheduleQuality }>>();
  const compareKeys = (profile: 'drift-turns' | 'eyewear') => {
    const [ss, cs] = profile === 'eyewear' ? [eyewear, eyewearCosts] : [seqs, costs];
    let p = keyed.get(profile);
    if (!p) {
      p = (async () => {
        const rl = await evaluateChooser(
          ss,
          () => keyChooser(new KeyFrameScheduler((f) => registry.run('keyframe', f))),
          cs,
        );
        const rate = (rl.runShare * FRAMES - 1) / (FRAMES - 1);
        const fixed = await evaluateChooser(ss, () => keyChooser(new FixedRateScheduler(rate)), cs);
        return { rl, fixed };
      })();
      keyed.set(profile, p);
    }
    return p;
  };

  it('serves keyframe@1.2.0, trained on eyewear head motion with segmentation@1.1.0 in the traces', () => {
    expect(registry.status().keyframe?.serving).toBe('keyframe@1.2.0');
  });

  // Measured with keyframe@1.2.0 and segmentation@1.1.0 on these eyewear sequences: 68.2% of the compute saved,
  // 0.8092 against 0.8116 for every frame at full scale (masks): 0.25 points lost (toolchain held-out split:
  // 68.6% saved, 0.26 points). keyframe@1.0.0 here: 79.7% saved, 0.78 points (held-out split: 2.14 points).
  it('eyewear head motion: the RL key scheduler saves at least 60% of compute within a point of every frame', async () => {
    const { rl } = await compareKeys('eyewear');
    const e = await everyFrameEyewear();
    expect(1 - rl.compute).toBeGreaterThanOrEqual(0.6);
    expect(100 * (e.miouTruth - rl.miouTruth)).toBeLessThanOrEqual(1);
  }, 300_000);

  // Measured with keyframe@1.2.0 here: 0.8092 vs 0.8059 (+0.33 points) against the masks, agreement 0.9369 vs
  // 0.9277 (+0.92) at 31.8% / 31.3% keys; toolchain held-out split +1.68 / +1.32, validation +1.60 / +1.48.
  it('eyewear head motion: the RL key scheduler beats a fixed interval at its key rate', async () => {
    const { rl, fixed } = await compareKeys('eyewear');
    expect(Math.abs(rl.runShare - fixed.runShare)).toBeLessThanOrEqual(1.5 / FRAMES);
    expect(rl.miouTruth).toBeGreaterThan(fixed.miouTruth);
    expect(rl.miouRef).toBeGreaterThan(fixed.miouRef);
  }, 300_000);

  // The original drift-turns profile (small, slow head turns), keyframe@1.2.0: 71.4% saved and 0.7627 against
  // 0.7609 every frame (masks) here; 78.9% saved, 0.80 points lost on the toolchain's held-out split. Against a
  // fixed interval at its key rate it is level on this profile: +0.24 / +0.62 points here but −0.30 / +0.02 on the
  // held-out split and −0.17 / −0.31 on validation, so that comparison is not asserted here (the strict xfail in
  // tools/train/tests/test_keyframe_network.py records the held-out miss).
  it('drift-turns head motion: the RL key scheduler saves at least 60% of compute within a point', async () => {
    const { rl } = await compareKeys('drift-turns');
    const e = await everyFrame();
    expect(1 - rl.compute).toBeGreaterThanOrEqual(0.6);
    expect(100 * (e.miouTruth - rl.miouTruth)).toBeLessThanOrEqual(1);
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
