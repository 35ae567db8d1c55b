import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../device/paths.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { compareVersions } from '../../models/versions.ts';
import { FixedRateScheduler, ThresholdScheduler } from '../../pipelines/schedulers/baselines.ts';
import { meanEndpointError, zeroFlow } from '../../pipelines/schedulers/flow/endpoint.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { KEY_FRAME_DEFAULTS, KeyFrameScheduler } from '../../pipelines/schedulers/key-frame-scheduler.ts';
import { CombinedChooser, ResolutionChooser } from '../keyframe/resolution-chooser.ts';
import {
  evaluateChooser,
  type FrameChooser,
  fixedScaleChooser,
  keyChooser,
  medianCosts,
  type NetScheduleQuality,
} from '../keyframe/schedule-eval.ts';
import { SCALES, type SegmentedSequence, segmentSequence } from '../keyframe/segmented-sequence.ts';
import { POLICY_SEGMENTATION_VERSION, ZooSegmenter } from '../keyframe/segmenter.ts';
import { generateSequences, type HeadMotionProfile } from '../keyframe/sequences.ts';
import { farnebackPairs } from './flow-reference.ts';
import type { Metric } from './report.ts';
import { schedulerCostMetrics } from './scheduler-cost.ts';

const ROOT = REPO_ROOT;
const ZOO = join(ROOT, 'models/zoo');
/** Held-out seeds for the bench (training uses 1000.., 2000.., 3000..; the tests 9000..). */
const BENCH_SEED = 8000;
const SEQUENCES = 4;
const FRAMES = 96;

/** Our flow's cost per 160 px frame against OpenCV Farneback (python3-opencv, one thread) on the same pairs. */
function flowMetrics(): Metric[] {
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-flow-'));
  try {
    const pairs = farnebackPairs(dir, 20);
    let ours = 0;
    let theirs = 0;
    let epe = 0;
    let still = 0;
    for (const p of pairs) {
      for (let i = 0; i < 3; i++) denseFlow(p.a, p.b);
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) denseFlow(p.a, p.b);
      ours += (performance.now() - t0) / 20;
      theirs += p.farnebackMs;
      epe += meanEndpointError(denseFlow(p.a, p.b), p.farneback);
      still += meanEndpointError(zeroFlow(p.a.width, p.a.height), p.farneback);
    }
    const n = pairs.length;
    const note = `${pairs.map((p) => p.name).join(', ')} at 160 px wide`;
    return [
      {
        name: 'schedulers.flow_ms',
        value: ours / n,
        unit: 'ms',
        better: 'lower',
        baseline: { name: 'farneback_ms', value: theirs / n },
        note: `pyramidal Lucas–Kanade in JS vs cv2.calcOpticalFlowFarneback (1 thread); ${note}`,
      },
      { name: 'schedulers.flow_vs_farneback_ratio', value: ours / theirs, unit: 'x', better: 'lower', note },
      {
        name: 'schedulers.flow_epe_vs_farneback_px',
        value: epe / n,
        unit: 'px',
        better: 'lower',
        baseline: { name: 'zero_flow_epe_px', value: still / n },
        note,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Point {
  readonly name: string;
  readonly label: string;
  readonly q: NetScheduleQuality;
}

function pointMetrics(tag: string, p: Point, every: NetScheduleQuality): Metric[] {
  const note =
    `${p.label}; vs every frame at full scale: ${(100 * (every.miouTruth - p.q.miouTruth)).toFixed(2)} points ` +
    `(masks), agreement with it ${p.q.miouRef.toFixed(3)}; network on ${(100 * p.q.runShare).toFixed(1)}% of frames`;
  return [
    { name: `schedulers.${tag}curve.${p.name}.miou`, value: p.q.miouTruth, unit: 'mIoU', better: 'higher', note },
    {
      name: `schedulers.${tag}curve.${p.name}.compute`,
      value: p.q.compute,
      unit: 'x full',
      better: 'lower',
      note: 'onnxruntime time at the chosen scales / every frame at full scale',
    },
  ];
}

function targetMetrics(tag: string, label: string, q: NetScheduleQuality, every: NetScheduleQuality): Metric[] {
  const note = `${label} vs every frame at full scale (mIoU against the masks); flow and policy time not subtracted`;
  return [
    {
      name: `schedulers.${tag}compute_saved`,
      value: 1 - q.compute,
      unit: 'share',
      better: 'higher',
      target: 0.6,
      note,
    },
    {
      name: `schedulers.${tag}miou_loss`,
      value: 100 * (every.miouTruth - q.miouTruth),
      unit: 'points',
      better: 'lower',
      target: 1,
      note,
    },
    {
      name: `schedulers.${tag}miou_ref_loss`,
      value: 100 * (1 - q.miouRef),
      unit: 'points',
      better: 'lower',
      note: `${label}: mIoU against the network's own full-scale output on every frame (the papers' reference)`,
    },
  ];
}

function latestVersion(zoo: string, name: string): string {
  const v = readdirSync(join(zoo, name)).sort(compareVersions).at(-1);
  if (!v) throw new Error(`no ${name} model in ${zoo}`);
  return v;
}

/**
 * Quality against measured segmentation compute for every schedule, on held-out synthetic sequences with the
 * zoo network in the loop: key frames (and every frame of the fixed-scale rows) take the network's output at the
 * chosen scale, other frames warp the last one by the device's flow; mIoU is against the masks, agreement is
 * against the network's full-scale output on every frame; compute is onnxruntime time (median per scale).
 */
async function curveMetrics(profile: HeadMotionProfile, tag: string): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-keyframe-'));
  const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
  const registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
  const seg = await ZooSegmenter.open(ZOO, POLICY_SEGMENTATION_VERSION);
  try {
    const loaded = await registry.start(['keyframe', 'resolution-policy']);
    for (const l of loaded) if (!l?.ok) throw new Error(`a policy did not load: ${JSON.stringify(l)}`);
    const kv = latestVersion(ZOO, 'keyframe');
    const manifest = JSON.parse(readFileSync(join(ZOO, 'keyframe', kv, 'manifest.json'), 'utf8'));
    const level = Number(manifest.metrics.baselines.threshold_residual_level);
    const dirs = generateSequences(dir, BENCH_SEED, SEQUENCES, FRAMES, profile);
    const seqs: SegmentedSequence[] = [];
    for (const d of dirs) seqs.push(await segmentSequence(d, seg));
    const costs = medianCosts(seqs);
    const run = (make: () => FrameChooser) => evaluateChooser(seqs, make, costs);
    const keys = () => new KeyFrameScheduler((f) => registry.run('keyframe', f));
    const res = () => new ResolutionChooser((f) => registry.run('resolution-policy', f));
    const points: Point[] = [];
    const every = await run(() => fixedScaleChooser(0));
    points.push({ name: 'every_frame', label: `every frame at full scale, ${seg.model}`, q: every });
    for (const n of [2, 3, 5, 10]) {
      const q = await run(() => keyChooser(new FixedRateScheduler(1 / n)));
      points.push({ name: `fixed_1_${n}`, label: `key every ${n} frames`, q });
    }
    const max = KEY_FRAME_DEFAULTS.maxInterval;
    const thr = await run(() => keyChooser(new ThresholdScheduler(level, max)));
    points.push({ name: 'threshold', label: `threshold on the residual (${level.toFixed(2)})`, q: thr });
    const rl = await run(() => keyChooser(keys()));
    points.push({ name: 'rl_keyframe', label: `RL key scheduler keyframe@${kv}`, q: rl });
    const rate = (rl.runShare * FRAMES - 1) / (FRAMES - 1);
    const same = await run(() => keyChooser(new FixedRateScheduler(rate)));
    points.push({ name: 'fixed_same_rate_as_rl', label: 'fixed interval, RL key scheduler key count', q: same });
    for (const [i, s] of SCALES.entries()) {
      if (i === 0) continue;
      const q = await run(() => fixedScaleChooser(i));
      points.push({ name: `scale${Math.round(s * 100)}`, label: `every frame at scale ${s}`, q });
    }
    const rv = latestVersion(ZOO, 'resolution-policy');
    const rp = await run(res);
    points.push({ name: 'rl_resolution', label: `RL resolution policy resolution-policy@${rv}`, q: rp });
    for (const battery of [0.5, 0.2]) {
      const q = await run(() => new ResolutionChooser((f) => registry.run('resolution-policy', f), battery));
      points.push({
        name: `rl_resolution_battery${battery * 100}`,
        label: `resolution policy at battery ${battery}`,
        q,
      });
    }
    const sameCompute = await run(() => keyChooser(new FixedRateScheduler(Math.min(1, Math.max(rp.compute, 0.01)))));
    points.push({
      name: 'fixed_same_compute_as_resolution',
      label: 'fixed interval, resolution policy compute',
      q: sameCompute,
    });
    const both = await run(() => new CombinedChooser(keys(), res()));
    points.push({ name: 'rl_both', label: 'RL key scheduler + RL resolution policy', q: both });
    const out: Metric[] = points.flatMap((p) => pointMetrics(tag, p, every));
    const on = `${profile} head motion`;
    out.push(...targetMetrics(tag, `RL key scheduler keyframe@${kv}, ${on}`, rl, every));
    out.push(...targetMetrics(`${tag}resolution.`, `RL resolution policy resolution-policy@${rv}, ${on}`, rp, every));
    out.push(...targetMetrics(`${tag}both.`, `both policies together, ${on}`, both, every));
    out.push({
      name: `schedulers.${tag}gain_over_fixed`,
      value: 100 * (rl.miouTruth - same.miouTruth),
      unit: 'points',
      better: 'higher',
      note: `${on}: RL key scheduler minus the fixed interval with its key count, mIoU against the masks (agreement: ${(
        100 * (rl.miouRef - same.miouRef)
      ).toFixed(2)} points)`,
    });
    if (tag !== '') return out;
    out.push({
      name: 'schedulers.scheduler_ms',
      value: rl.decideMs,
      unit: 'ms',
      better: 'lower',
      note: 'RL key scheduler per frame: flow + features + policy',
    });
    out.push({
      name: 'schedulers.segmentation_full_ms',
      value: costs[0] as number,
      unit: 'ms',
      better: 'lower',
      note: `onnxruntime per run, median; scales 0.75/0.5/0.25: ${costs
        .slice(1)
        .map((c) => c.toFixed(2))
        .join(' / ')} ms`,
    });
    return out;
  } finally {
    await seg.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The curves on the eyewear head-motion profile (the served key scheduler's training distribution: still,
 * pursuit and fast head turns) under the metric names of DESIGN.md, and again on the original drift-turns
 * profile (small slow turns) under `schedulers.drift_turns.*`.
 */
export async function benchSchedulers(): Promise<Metric[]> {
  return [
    ...flowMetrics(),
    ...(await curveMetrics('eyewear', '')),
    ...(await curveMetrics('drift-turns', 'drift_turns.')),
    ...(await schedulerCostMetrics()),
  ];
}
