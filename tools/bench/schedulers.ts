import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { FixedRateScheduler, type GreyScheduler, ThresholdScheduler } from '../../pipelines/schedulers/baselines.ts';
import { meanEndpointError, zeroFlow } from '../../pipelines/schedulers/flow/endpoint.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { KEY_FRAME_DEFAULTS, KeyFrameScheduler } from '../../pipelines/schedulers/key-frame-scheduler.ts';
import { evaluateSchedule, type ScheduleQuality } from '../keyframe/evaluate.ts';
import { generateSequences, readSequence } from '../keyframe/sequences.ts';
import { farnebackPairs } from './flow-reference.ts';
import type { Metric } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ZOO = join(ROOT, 'models/zoo');
/** Held-out seeds for the bench (training uses 1000.., 2000.., 3000..; the tests 9000..). */
const BENCH_SEED = 8000;
const SEQUENCES = 4;
const FRAMES = 64;

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

function point(name: string, q: ScheduleQuality): Metric[] {
  const note = `${SEQUENCES} held-out synthetic sequences × ${FRAMES} frames; key result = ground truth`;
  return [
    { name: `schedulers.curve.${name}.miou`, value: q.miou, unit: 'mIoU', better: 'higher', note },
    { name: `schedulers.curve.${name}.compute`, value: q.keyRate, unit: 'share', better: 'lower', note },
  ];
}

/** Quality against segmentation compute (share of frames that run the network) for every scheduler. */
async function curveMetrics(): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-keyframe-'));
  const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
  const registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
  try {
    const [loaded] = await registry.start(['keyframe']);
    if (!loaded?.ok) throw new Error(`keyframe policy did not load: ${JSON.stringify(loaded)}`);
    const manifest = JSON.parse(readFileSync(join(registry.modelDir('keyframe', '1.0.0'), 'manifest.json'), 'utf8'));
    const level = Number(manifest.metrics.baselines.threshold_residual_level);
    const seqs = generateSequences(dir, BENCH_SEED, SEQUENCES, FRAMES).map(readSequence);
    const run = (make: () => GreyScheduler) => evaluateSchedule(seqs, make);
    const every = await run(() => new FixedRateScheduler(1));
    const out: Metric[] = [...point('every_frame', every)];
    for (const n of [2, 3, 5, 10]) out.push(...point(`fixed_1_${n}`, await run(() => new FixedRateScheduler(1 / n))));
    const max = KEY_FRAME_DEFAULTS.maxInterval;
    out.push(...point('threshold', await run(() => new ThresholdScheduler(level, max))));
    const rl = await run(() => new KeyFrameScheduler((f) => registry.run('keyframe', f)));
    out.push(...point('rl', rl));
    const sameRate = await run(() => new FixedRateScheduler((rl.keyRate * FRAMES - 1) / (FRAMES - 1)));
    out.push(...point('fixed_same_rate_as_rl', sameRate));
    const note = 'RL key scheduler vs every frame; segmentation runs avoided (flow cost not subtracted)';
    out.push({
      name: 'schedulers.compute_saved',
      value: 1 - rl.keyRate,
      unit: 'share',
      better: 'higher',
      target: 0.6,
      note,
    });
    out.push({
      name: 'schedulers.miou_loss',
      value: 100 * (every.miou - rl.miou),
      unit: 'points',
      better: 'lower',
      target: 1,
      baseline: { name: 'fixed_same_rate_loss', value: 100 * (every.miou - sameRate.miou) },
      note,
    });
    out.push({ name: 'schedulers.scheduler_ms', value: rl.msPerFrame, unit: 'ms', better: 'lower', note: 'per frame' });
    return out;
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchSchedulers(): Promise<Metric[]> {
  return [...flowMetrics(), ...(await curveMetrics())];
}
