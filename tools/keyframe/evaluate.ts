import type { GreyScheduler } from '../../pipelines/schedulers/baselines.ts';
import { warpLabels } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { frameMeanIoU } from '../../pipelines/schedulers/quality.ts';
import type { LabelledSequence } from './sequences.ts';

export interface ScheduleQuality {
  /** Mean over all frames of the frame's mIoU (key frames score the key result's, here the truth: 1). */
  readonly miou: number;
  readonly keyRate: number;
  readonly frames: number;
  /** Wall time of the scheduler's decisions per frame (flow, features, policy). */
  readonly msPerFrame: number;
}

/**
 * Runs a scheduler online over labelled sequences, as the device would: key frames take the true labels (the
 * key result; so the loss measured is the propagation's), non-key frames warp the last key's labels by the
 * decision's flow.
 */
export async function evaluateSchedule(
  sequences: readonly LabelledSequence[],
  make: () => GreyScheduler,
): Promise<ScheduleQuality> {
  let sum = 0;
  let keys = 0;
  let frames = 0;
  let ms = 0;
  for (const seq of sequences) {
    const scheduler = make();
    let lastKeyLabels = seq.labels[0];
    for (const [t, frame] of seq.frames.entries()) {
      const truth = seq.labels[t] as (typeof seq.labels)[number];
      const t0 = performance.now();
      const d = await scheduler.decideGrey(frame);
      ms += performance.now() - t0;
      frames++;
      if (d.run || d.flow === undefined || lastKeyLabels === undefined) {
        keys++;
        lastKeyLabels = truth;
        sum += 1;
      } else {
        sum += frameMeanIoU(warpLabels(lastKeyLabels, d.flow), truth, seq.classes);
      }
    }
  }
  return { miou: sum / frames, keyRate: keys / frames, frames, msPerFrame: ms / frames };
}
