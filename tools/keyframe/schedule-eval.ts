import type { GreyScheduler } from '../../pipelines/schedulers/baselines.ts';
import type { Flow } from '../../pipelines/schedulers/flow/image.ts';
import { type LabelMap, warpLabels } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { frameMeanIoU } from '../../pipelines/schedulers/quality.ts';
import { SCALES, type SegmentedSequence } from './segmented-sequence.ts';

/** Index into SCALES, or REUSE: warp the last segmented map to this frame by `flow` (current → that frame). */
export const REUSE = SCALES.length;

export interface Choice {
  readonly action: number;
  readonly flow?: Flow;
}

/** One sequence's per-frame decisions (a fresh one per sequence: schedulers keep state). */
export interface FrameChooser {
  choose(t: number, seq: SegmentedSequence): Promise<Choice> | Choice;
}

export interface NetScheduleQuality {
  /** Mean frame mIoU against the masks. */
  readonly miouTruth: number;
  /** Mean frame mIoU against the network's full-scale output on every frame (the papers' reference). */
  readonly miouRef: number;
  /** Segmentation compute relative to every frame at full scale (measured onnxruntime time per scale). */
  readonly compute: number;
  /** Share of frames that ran the network, and at each scale. */
  readonly runShare: number;
  readonly scaleShare: number[];
  /** Wall time of the decisions per frame (flow, features, policies). */
  readonly decideMs: number;
}

/** Median onnxruntime time per scale over every run in the sequences: the measured cost of each action. */
export function medianCosts(seqs: readonly SegmentedSequence[]): number[] {
  return SCALES.map((_, s) => {
    const xs = seqs.flatMap((q) => q.ms[s] ?? []).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)] ?? Number.NaN;
  });
}

/**
 * Runs a chooser online over segmented sequences, as the stage would: a run takes the network's map at the
 * chosen scale, a reuse warps the last run's map by the decision's flow; every frame is scored against the truth
 * and the reference.
 */
export async function evaluateChooser(
  seqs: readonly SegmentedSequence[],
  make: () => FrameChooser,
  costs: readonly number[] = medianCosts(seqs),
): Promise<NetScheduleQuality> {
  let truth = 0;
  let ref = 0;
  let cost = 0;
  let frames = 0;
  let ms = 0;
  const counts = SCALES.map(() => 0);
  for (const seq of seqs) {
    const chooser = make();
    let last: LabelMap | undefined;
    for (const [t, row] of seq.maps.entries()) {
      const t0 = performance.now();
      const c = await chooser.choose(t, seq);
      ms += performance.now() - t0;
      let map: LabelMap;
      if (c.action === REUSE && last !== undefined && c.flow !== undefined) {
        map = warpLabels(last, c.flow);
      } else {
        const a = c.action === REUSE ? 0 : c.action;
        map = row[a] as LabelMap;
        last = map;
        cost += (costs[a] as number) / (costs[0] as number);
        counts[a] = (counts[a] as number) + 1;
      }
      truth += frameMeanIoU(map, seq.truth[t] as LabelMap, seq.classes);
      ref += frameMeanIoU(map, row[0] as LabelMap, seq.classes);
      frames++;
    }
  }
  const runs = counts.reduce((a, b) => a + b, 0);
  return {
    miouTruth: truth / frames,
    miouRef: ref / frames,
    compute: cost / frames,
    runShare: runs / frames,
    scaleShare: counts.map((c) => c / frames),
    decideMs: ms / frames,
  };
}

/** A key scheduler (key: full scale; non-key: reuse by its flow). */
export function keyChooser(scheduler: GreyScheduler, scale = 0): FrameChooser {
  return {
    async choose(t, seq) {
      const d = await scheduler.decideGrey(seq.grey[t] as SegmentedSequence['grey'][number]);
      return d.run || d.flow === undefined ? { action: scale } : { action: REUSE, flow: d.flow };
    },
  };
}

/** Every frame at one scale. */
export function fixedScaleChooser(scale: number): FrameChooser {
  return { choose: () => ({ action: scale }) };
}
