import { BoxFilter } from './filters.ts';

/** The scratch planes of one pyramid level: allocated once per frame size, reused by every call of the flow. */
export interface LevelBuffers {
  readonly width: number;
  readonly height: number;
  /** The two images at this level (unused at level 0, where the caller's images are read directly). */
  readonly from: Float32Array;
  readonly to: Float32Array;
  readonly gx: Float32Array;
  readonly gy: Float32Array;
  /** The inverse of the damped structure tensor, (a, b; b, c)⁻¹ = (ia, ib; ib, ic), once per level and call. */
  readonly ia: Float32Array;
  readonly ib: Float32Array;
  readonly ic: Float32Array;
  readonly warped: Float32Array;
  readonly bx: Float32Array;
  readonly by: Float32Array;
  /** The flow at this level (level 0's is a fresh array per call: the caller keeps it). */
  readonly dx: Float32Array;
  readonly dy: Float32Array;
  /** The Lucas–Kanade window and the flow's smoothing box. */
  readonly window: BoxFilter;
  readonly smooth: BoxFilter | null;
  /** For upsampling from the next coarser level: the coarse column / row of each fine column / row. */
  readonly coarseX: Int32Array;
  readonly coarseY: Int32Array;
}

/** Every level's buffers for one frame size and window; finest first. */
export class FlowWorkspace {
  readonly levels: readonly LevelBuffers[];

  constructor(width: number, height: number, levels: number, radius: number, smoothRadius: number) {
    const out: LevelBuffers[] = [];
    let w = width;
    let h = height;
    for (let l = 0; l < levels; l++) {
      const n = w * h;
      const plane = () => new Float32Array(n);
      const cw = w >> 1;
      const ch = h >> 1;
      out.push({
        width: w,
        height: h,
        from: l === 0 ? new Float32Array(0) : plane(),
        to: l === 0 ? new Float32Array(0) : plane(),
        gx: plane(),
        gy: plane(),
        ia: plane(),
        ib: plane(),
        ic: plane(),
        warped: plane(),
        bx: plane(),
        by: plane(),
        dx: l === 0 ? new Float32Array(0) : plane(),
        dy: l === 0 ? new Float32Array(0) : plane(),
        window: new BoxFilter(w, h, radius),
        smooth: smoothRadius > 0 ? new BoxFilter(w, h, smoothRadius) : null,
        coarseX: l < levels - 1 ? coarseIndex(w, cw) : new Int32Array(0),
        coarseY: l < levels - 1 ? coarseIndex(h, ch) : new Int32Array(0),
      });
      w = cw;
      h = ch;
    }
    this.levels = out;
  }
}

/** Nearest coarse sample of each of `fine` samples when `coarse` samples cover the same extent. */
function coarseIndex(fine: number, coarse: number): Int32Array {
  const out = new Int32Array(fine);
  const s = fine / coarse;
  for (let i = 0; i < fine; i++) out[i] = Math.min(coarse - 1, Math.floor(i / s));
  return out;
}

/** A few workspaces, the most recently used kept (a device sees one frame size; tests and tools a handful). */
const cache = new Map<string, FlowWorkspace>();
const CACHED = 4;

export function flowWorkspace(
  width: number,
  height: number,
  levels: number,
  radius: number,
  smoothRadius: number,
): FlowWorkspace {
  const key = `${width}x${height}/${levels}/${radius}/${smoothRadius}`;
  let ws = cache.get(key);
  if (ws) {
    cache.delete(key);
  } else {
    ws = new FlowWorkspace(width, height, levels, radius, smoothRadius);
    if (cache.size >= CACHED) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, ws);
  return ws;
}
