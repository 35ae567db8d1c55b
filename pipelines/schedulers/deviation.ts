import { warpBilinear } from './flow/filters.ts';
import type { Flow, GreyImage } from './flow/image.ts';

/**
 * How far the current scene frame has moved from the last key frame: the RL key scheduler's view of the world.
 * Everything comes from the two grey frames and the current → key flow that propagation needs anyway, so the
 * state costs one extra warp. The toolchain's traces are computed by this same code (trace-cli.ts), so a
 * feature means the same in training and on the device.
 */
export interface Deviation {
  /** Mean |current − key| (grey levels): raw change, camera and objects alike. */
  readonly meanAbsDiff: number;
  /** Mean |current − key warped by the flow| (grey levels): what motion compensation cannot explain. */
  readonly residual: number;
  /** Share of 8x8 blocks whose mean residual exceeds POOR_BLOCK_LEVEL: where propagated labels go wrong. */
  readonly poorBlocks: number;
  /** Mean flow length (px of the working image). */
  readonly flowMean: number;
  /** Spread of the flow vectors (px, RMS about their mean): objects moving against the camera. */
  readonly flowSpread: number;
  /** Share of pixels whose flow points outside the key frame: content the key never saw. */
  readonly outside: number;
}

export const POOR_BLOCK_LEVEL = 12;
const BLOCK = 8;

/** Scratch for one frame size, reused across frames (the features run on every scene frame). */
let scratch: { n: number; warped: Float32Array; blockSum: Float64Array; blockCount: Uint32Array } | null = null;

export function frameDeviation(current: GreyImage, key: GreyImage, flow: Flow): Deviation {
  const { width: w, height: h } = current;
  const n = w * h;
  const bw = Math.ceil(w / BLOCK);
  const bh = Math.ceil(h / BLOCK);
  if (scratch === null || scratch.n !== n || scratch.blockSum.length !== bw * bh) {
    scratch = {
      n,
      warped: new Float32Array(n),
      blockSum: new Float64Array(bw * bh),
      blockCount: new Uint32Array(bw * bh),
    };
  }
  const warped = warpBilinear(key.data, w, h, flow.dx, flow.dy, scratch.warped);
  const { blockSum, blockCount } = scratch;
  blockSum.fill(0);
  blockCount.fill(0);
  let diff = 0;
  let residual = 0;
  let outside = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let len = 0;
  for (let y = 0; y < h; y++) {
    const blockRow = ((y / BLOCK) | 0) * bw;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const c = current.data[i] as number;
      const r = Math.abs(c - (warped[i] as number));
      diff += Math.abs(c - (key.data[i] as number));
      residual += r;
      const b = blockRow + ((x / BLOCK) | 0);
      blockSum[b] = (blockSum[b] as number) + r;
      blockCount[b] = (blockCount[b] as number) + 1;
      const dx = flow.dx[i] as number;
      const dy = flow.dy[i] as number;
      const px = x + dx;
      const py = y + dy;
      if (px < 0 || py < 0 || px > w - 1 || py > h - 1) outside++;
      sx += dx;
      sy += dy;
      sxx += dx * dx;
      syy += dy * dy;
      len += Math.sqrt(dx * dx + dy * dy);
    }
  }
  let poor = 0;
  for (let b = 0; b < blockSum.length; b++) {
    if ((blockSum[b] as number) / (blockCount[b] as number) > POOR_BLOCK_LEVEL) poor++;
  }
  const mx = sx / n;
  const my = sy / n;
  const spread = Math.sqrt(Math.max(0, sxx / n - mx * mx + syy / n - my * my));
  return {
    meanAbsDiff: diff / n,
    residual: residual / n,
    poorBlocks: poor / blockSum.length,
    flowMean: len / n,
    flowSpread: spread,
    outside: outside / n,
  };
}
