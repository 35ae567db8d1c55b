import type { Flow } from './image.ts';

/** A label map (one class id a pixel, row-major), e.g. a segmentation result. */
export interface LabelMap {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Propagate a key frame's labels to the current frame: out(p) = labels(p + flow(p)), nearest neighbour (labels
 * are categories, never blended). `flow` is the current frame → key frame flow (denseFlow(current, key)). The
 * label map may have another size than the flow: the flow is sampled at the matching position and its vectors
 * scaled. Sources outside the key frame clamp to its border (the nearest known label).
 */
export function warpLabels(labels: LabelMap, flow: Flow): LabelMap {
  const { width: W, height: H } = labels;
  const sx = W / flow.width;
  const sy = H / flow.height;
  const out = new Uint8Array(W * H);
  // The flow column of each label column, computed once rather than per pixel.
  const flowX = new Int32Array(W);
  for (let x = 0; x < W; x++) flowX[x] = Math.min(flow.width - 1, Math.floor(x / sx));
  for (let y = 0; y < H; y++) {
    const flowRow = Math.min(flow.height - 1, Math.floor(y / sy)) * flow.width;
    for (let x = 0; x < W; x++) {
      const f = flowRow + (flowX[x] as number);
      let px = Math.round(x + (flow.dx[f] as number) * sx);
      let py = Math.round(y + (flow.dy[f] as number) * sy);
      px = px < 0 ? 0 : px >= W ? W - 1 : px;
      py = py < 0 ? 0 : py >= H ? H - 1 : py;
      out[y * W + x] = labels.data[py * W + px] as number;
    }
  }
  return { width: W, height: H, data: out };
}
