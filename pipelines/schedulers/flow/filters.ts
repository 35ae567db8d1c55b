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
 * size. One pass: running column sums (float64) slide down the image, and each output row is a running sum along
 * those column sums — so each pixel is read twice and written once, one multiply a pixel with the window sizes'
 * reciprocals precomputed, and no allocation per call.
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

  /** `out` may be `src` (through a scratch plane then: a row is written before the rows below it are read). */
  apply(src: Float32Array, out: Float32Array): Float32Array {
    if (src !== out) return this.pass(src, out);
    this.pass(src, this.tmp);
    out.set(this.tmp);
    return out;
  }

  private pass(src: Float32Array, out: Float32Array): Float32Array {
    const { width: w, height: h, radius: r, columns, invX, invY } = this;
    columns.fill(0);
    for (let y = 0; y <= Math.min(r, h - 1); y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) columns[x] = (columns[x] as number) + (src[row + x] as number);
    }
    // Along a line, sample i + r + 1 enters after i is written (while i < n − r − 1) and sample i − r leaves (once
    // i ≥ r); the loops are split where those conditions change, so none tests them.
    const [xAdd, xMid] = spans(w, r);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      const inv = invY[y] as number;
      let sum = 0;
      for (let x = 0; x <= Math.min(r, w - 1); x++) sum += columns[x] as number;
      let x = 0;
      for (; x < xAdd; x++) {
        out[row + x] = sum * inv * (invX[x] as number);
        sum += columns[x + r + 1] as number;
      }
      if (xMid > 0) {
        for (; x < xAdd + xMid; x++) {
          out[row + x] = sum * inv * (invX[x] as number);
          // One dependent addition a pixel (the difference does not wait for the sum): half the latency.
          sum += (columns[x + r + 1] as number) - (columns[x - r] as number);
        }
      } else {
        for (; x < xAdd - xMid; x++) out[row + x] = sum * inv * (invX[x] as number);
      }
      for (; x < w; x++) {
        out[row + x] = sum * inv * (invX[x] as number);
        sum -= columns[x - r] as number;
      }
      // Slide the column sums one row down.
      const adds = y + r + 1 < h;
      const drops = y >= r;
      const add = row + (r + 1) * w;
      const drop = row - r * w;
      if (adds && drops) {
        for (let i = 0; i < w; i++) {
          columns[i] = (columns[i] as number) + (src[add + i] as number) - (src[drop + i] as number);
        }
      } else if (adds) {
        for (let i = 0; i < w; i++) columns[i] = (columns[i] as number) + (src[add + i] as number);
      } else if (drops) {
        for (let i = 0; i < w; i++) columns[i] = (columns[i] as number) - (src[drop + i] as number);
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
