import { join } from 'node:path';
import cv, { type Mat } from '../../device/opencv.ts';
import { REPO_ROOT } from '../../device/paths.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { frameDeviation } from '../../pipelines/schedulers/deviation.ts';
import type { GreyImage } from '../../pipelines/schedulers/flow/image.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { KeyFrameScheduler } from '../../pipelines/schedulers/key-frame-scheduler.ts';
import { workingFrame } from '../../pipelines/schedulers/working-frame.ts';
import { ZooSegmenter } from '../keyframe/segmenter.ts';
import type { Metric } from './report.ts';

const ZOO = join(REPO_ROOT, 'models/zoo');
/** A real decoded video: the sample session's scene camera (H.264, 640×480, 30 fps; a synthetic scene). */
const SCENE = join(REPO_ROOT, 'sample/session/scene.mp4');
const WARM_FRAMES = 60;
const TIMED_FRAMES = 300;
/** The network is timed on every NET_EVERY-th timed frame (it is the slow part of the bench). */
const NET_EVERY = 3;

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

/**
 * What the RL key scheduler costs per scene frame against what it saves: `KeyFrameScheduler.decide` (shrink to the
 * 160 px grey working frame, dense flow to the last key, deviation features, the `keyframe` policy in
 * onnxruntime) on the sample session's decoded scene frames, after WARM_FRAMES frames of JIT warm-up, next to
 * the segmentation network (the zoo's newest, as the stage loads it) on the same frames at full scale. Also the
 * parts of that cost, timed separately on the same frames (shrink, flow, features).
 */
export async function schedulerCostMetrics(): Promise<Metric[]> {
  const devKey = readTrustedKey(join(REPO_ROOT, 'models/keys/dev.pub.pem'));
  const registry = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
  const seg = await ZooSegmenter.open(ZOO);
  const cap = new cv.VideoCapture(SCENE);
  try {
    const loaded = await registry.start(['keyframe']);
    for (const l of loaded) if (!l?.ok) throw new Error(`keyframe policy did not load: ${JSON.stringify(l)}`);
    const scheduler = new KeyFrameScheduler((f) => registry.run('keyframe', f));
    const decideMs: number[] = [];
    const netMs: number[] = [];
    const parts = { shrink: [] as number[], flow: [] as number[], features: [] as number[] };
    let previous: GreyImage | null = null;
    let cpuUs = 0;
    for (let i = 0; i < WARM_FRAMES + TIMED_FRAMES; i++) {
      const mat = cap.read();
      if (mat.empty) throw new Error(`${SCENE} ended after ${i} frames; the bench needs ${WARM_FRAMES + TIMED_FRAMES}`);
      try {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await scheduler.decide({ index: i, tNs: BigInt(i) * 33_333_333n, scene: mat, last: null });
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (i < WARM_FRAMES) continue;
        decideMs.push(ms);
        cpuUs += c.user + c.system;
        const t1 = performance.now();
        const grey = workingFrame(mat);
        parts.shrink.push(performance.now() - t1);
        if (previous) {
          const t2 = performance.now();
          const flow = denseFlow(grey, previous);
          parts.flow.push(performance.now() - t2);
          const t3 = performance.now();
          frameDeviation(grey, previous, flow);
          parts.features.push(performance.now() - t3);
        }
        previous = grey;
        if (i % NET_EVERY === 0) netMs.push((await segment(seg, mat)).ms);
      } finally {
        mat.release();
      }
    }
    const stats = scheduler.stats();
    const policy = mean(decideMs);
    const net = median(netMs);
    const note =
      `${TIMED_FRAMES} frames of sample/session/scene.mp4 after ${WARM_FRAMES} warm-up frames; key share ` +
      `${stats.keyShare.toFixed(3)}; CPU time ${(cpuUs / 1000 / TIMED_FRAMES).toFixed(2)} ms a frame; parts: ` +
      `shrink ${mean(parts.shrink).toFixed(2)}, flow ${mean(parts.flow).toFixed(2)}, features ` +
      `${mean(parts.features).toFixed(2)} ms (wall, mean)`;
    return [
      {
        name: 'schedulers.policy_ms_per_frame',
        value: policy,
        unit: 'ms',
        better: 'lower',
        baseline: { name: 'segmentation_ms_per_frame', value: net },
        note: `RL key scheduler per frame (shrink + flow + features + policy), wall mean; network: ${seg.model} median onnxruntime ms at full scale; ${note}`,
      },
      {
        name: 'schedulers.policy_to_network_ratio',
        value: policy / net,
        unit: 'x',
        better: 'lower',
        note: 'scheduler cost per frame / one segmentation run: below 1 the scheduler costs less than the network it can save',
      },
    ];
  } finally {
    cap.release();
    await seg.close();
    await registry.close();
  }
}

/** The network on one scene frame as the stage feeds it: BGR shrunk to 160×120 with area interpolation. */
async function segment(seg: ZooSegmenter, scene: Mat) {
  const small = scene.resize(120, 160, 0, 0, cv.INTER_AREA);
  try {
    return await seg.segment(new Uint8Array(small.getData()), 160, 120);
  } finally {
    small.release();
  }
}
