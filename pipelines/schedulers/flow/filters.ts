/**
 * The few image filters the flow needs, on row-major float32 planes: a separable box mean (running sums, so the
 * cost does not grow with the window), central-difference gradients and a bilinear backward warp. None of them
 * allocates per call: the flow runs on every scene frame, and its scratch planes live in a FlowWorkspace.
 */

/** 1 / (number of samples) of a (2r+1) window clipped to a line of n samples, for every position on the line. */
function windowReciprocals(n: number, r: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (Math.min(n - 1, i + r) - Math.max(0, i - r) + 1);
  return out;
}

/**
 * Mean over the (2r+1)² window, the window clipped at the borders (so edges are not darkened), for planes of one
 * size. Holds its own scratch (the horizontal pass, the running column sums) and the window sizes' reciprocals,
 * so a call is two sequential passes with one multiply a pixel and no allocation.
 */
export class BoxFilter {
  private readonly tmp: Float32Array;
  private readonly columns: Float64Array;
  private readonly invX: Float64Array;
  private readonly invY: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly radius: number,
  ) {
    this.tmp = new Float32Array(width * height);
    this.columns = new Float64Array(width);
    this.invX = windowReciprocals(width, radius);
    this.invY = windowReciprocals(height, radius);
  }

  /** `out` may be `src` (in place). */
  apply(src: Float32Array, out: Float32Array): Float32Array {
    const { width: w, height: h, radius: r, tmp, columns, invX, invY } = this;
    // A running sum along each row: sample x + r + 1 enters after x is written (while x < w - r - 1) and sample
    // x − r leaves (once x ≥ r). The loops are split where those conditions change, so none tests them, and two
    // rows run side by side: each sum is a chain of dependent additions, two chains keep the CPU busy.
    const [xAdd, xMid] = spans(w, r);
    const firstX = Math.min(r, w - 1);
    for (let y = 0; y < h; y += 2) {
      const a = y * w;
      // The second row of the pair; an odd last row is paired with itself (computed twice, written twice).
      const b = y + 1 < h ? a + w : a;
      let sa = 0;
      let sb = 0;
      for (let x = 0; x <= firstX; x++) {
        sa += src[a + x] as number;
        sb += src[b + x] as number;
      }
      let x = 0;
      for (; x < xAdd; x++) {
        const inv = invX[x] as number;
        tmp[a + x] = sa * inv;
        tmp[b + x] = sb * inv;
        sa += src[a + x + r + 1] as number;
        sb += src[b + x + r + 1] as number;
      }
      if (xMid > 0) {
        for (; x < xAdd + xMid; x++) {
          const inv = invX[x] as number;
          tmp[a + x] = sa * inv;
          tmp[b + x] = sb * inv;
          sa = sa + (src[a + x + r + 1] as number) - (src[a + x - r] as number);
          sb = sb + (src[b + x + r + 1] as number) - (src[b + x - r] as number);
        }
      } else {
        for (; x < xAdd - xMid; x++) {
          const inv = invX[x] as number;
          tmp[a + x] = sa * inv;
          tmp[b + x] = sb * inv;
        }
      }
      for (; x < w; x++) {
        const inv = invX[x] as number;
        tmp[a + x] = sa * inv;
        tmp[b + x] = sb * inv;
        sa -= src[a + x - r] as number;
        sb -= src[b + x - r] as number;
      }
    }
    // The same down the columns, row by row (sequential memory), one running sum a column, in the same order of
    // additions as a column-by-column pass.
    columns.fill(0);
    for (let y = 0; y <= Math.min(r, h - 1); y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) columns[x] = (columns[x] as number) + (tmp[row + x] as number);
    }
    const [yAdd, yMid] = spans(h, r);
    let y = 0;
    for (; y < yAdd; y++) {
      const row = y * w;
      const add = row + (r + 1) * w;
      const inv = invY[y] as number;
      for (let x = 0; x < w; x++) {
        const c = columns[x] as number;
        out[row + x] = c * inv;
        columns[x] = c + (tmp[add + x] as number);
      }
    }
    if (yMid > 0) {
      for (; y < yAdd + yMid; y++) {
        const row = y * w;
        const add = row + (r + 1) * w;
        const drop = row - r * w;
        const inv = invY[y] as number;
        for (let x = 0; x < w; x++) {
          const c = columns[x] as number;
          out[row + x] = c * inv;
          columns[x] = c + (tmp[add + x] as number) - (tmp[drop + x] as number);
        }
      }
    } else {
      for (; y < yAdd - yMid; y++) {
        const row = y * w;
        const inv = invY[y] as number;
        for (let x = 0; x < w; x++) out[row + x] = (columns[x] as number) * inv;
      }
    }
    for (; y < h; y++) {
      const row = y * w;
      const drop = row - r * w;
      const inv = invY[y] as number;
      for (let x = 0; x < w; x++) {
        const c = columns[x] as number;
        out[row + x] = c * inv;
        columns[x] = c - (tmp[drop + x] as number);
      }
    }
    return out;
  }
}

/**
 * Where a running sum of radius r along n samples changes mode: [the number of leading positions that only add,
 * then the number that add and drop] — or, when the window spans the whole line, minus the number that do
 * neither — the rest only drop.
 */
function spans(n: number, r: number): [number, number] {
  const addEnd = Math.max(0, n - r - 1); // positions < addEnd add a sample
  const dropStart = Math.min(r, n); // positions ≥ dropStart drop one
  const first = Math.min(addEnd, dropStart);
  return [first, addEnd > dropStart ? addEnd - dropStart : -(dropStart - addEnd)];
}

/** Central differences (one-sided at the borders), halved so a unit ramp has gradient 1; into gx and gy. */
export function gradients(src: Float32Array, w: number, h: number, gx: Float32Array, gy: Float32Array): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = y > 0 ? row - w : row;
    const down = y < h - 1 ? row + w : row;
    const yScale = down - up === 2 * w ? 0.5 : 1;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      gy[i] = ((src[down + x] as number) - (src[up + x] as number)) * yScale;
    }
    if (w === 1) {
      gx[row] = 0;
      continue;
    }
    gx[row] = (src[row + 1] as number) - (src[row] as number);
    for (let x = 1; x < w - 1; x++) gx[row + x] = ((src[row + x + 1] as number) - (src[row + x - 1] as number)) * 0.5;
    gx[row + w - 1] = (src[row + w - 1] as number) - (src[row + w - 2] as number);
  }
}

/** out(x, y) = src(x + dx, y + dy), bilinear, coordinates clamped to the image. */
export function warpBilinear(
  src: Float32Array,
  w: number,
  h: number,
  dx: Float32Array,
  dy: Float32Array,
  out: Float32Array,
): Float32Array {
  const maxX = w - 1;
  const maxY = h - 1;
  // The last cell that has a right / lower neighbour: a sample on the far edge interpolates from the cell before.
  const lastX0 = Math.max(maxX - 1, 0);
  const lastY0 = Math.max(maxY - 1, 0);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      let sx = x + (dx[i] as number);
      let sy = y + (dy[i] as number);
      sx = sx < 0 ? 0 : Math.min(sx, maxX);
      sy = sy < 0 ? 0 : Math.min(sy, maxY);
      const x0 = Math.min(sx | 0, lastX0);
      const y0 = Math.min(sy | 0, lastY0);
      const fx = sx - x0;
      const fy = sy - y0;
      const a = y0 * w + x0;
      const s00 = src[a] as number;
      const s10 = src[a + 1] as number;
      const s01 = src[a + w] as number;
      const top = s00 + fx * (s10 - s00);
      const bottom = s01 + fx * ((src[a + w + 1] as number) - s01);
      out[i] = top + fy * (bottom - top);
    }
  }
  return out;
}
