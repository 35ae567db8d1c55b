import type { LabelMap } from './flow/warp-labels.ts';

/**
 * Mean IoU of a predicted class map against the truth, over the classes present in either (background
 * included, as in PASCAL VOC). Two empty maps score 1.
 */
export function frameMeanIoU(pred: LabelMap, truth: LabelMap, classes: number): number {
  if (pred.data.length !== truth.data.length) throw new Error('mIoU needs label maps of the same size');
  const inter = new Uint32Array(classes);
  const predCount = new Uint32Array(classes);
  const truthCount = new Uint32Array(classes);
  for (let i = 0; i < pred.data.length; i++) {
    const p = pred.data[i] as number;
    const t = truth.data[i] as number;
    predCount[p] = (predCount[p] as number) + 1;
    truthCount[t] = (truthCount[t] as number) + 1;
    if (p === t) inter[p] = (inter[p] as number) + 1;
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const union = (predCount[c] as number) + (truthCount[c] as number) - (inter[c] as number);
    if (union === 0) continue;
    sum += (inter[c] as number) / union;
    present++;
  }
  return present === 0 ? 1 : sum / present;
}
