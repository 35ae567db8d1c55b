/**
 * The few image filters the flow needs, on row-major float32 planes: a separable box mean (running sums, so the
 * cost does not grow with the window), central-difference gradients and a bilinear backward warp.
 */

/** Mean over the (2r+1)² window, the window clipped at the borders (so edges are not darkened). */
export function boxMean(src: Float32Array, w: number, h: number, r: number, out: Float32Array): Float32Array {
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x] as number;
    for (let x = 0; x < w; x++) {
      const lo = Math.max(0, x - r);
      const hi = Math.min(w - 1, x + r);
      tmp[row + x] = sum / (hi - lo + 1);
      const add = x + r + 1;
      const drop = x - r;
      if (add < w) sum += src[row + add] as number;
      if (drop >= 0) sum -= src[row + drop] as number;
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x] as number;
    for (let y = 0; y < h; y++) {
      const lo = Math.max(0, y - r);
      const hi = Math.min(h - 1, y + r);
      out[y * w + x] = sum / (hi - lo + 1);
      const add = y + r + 1;
      const drop = y - r;
      if (add < h) sum += tmp[add * w + x] as number;
      if (drop >= 0) sum -= tmp[drop * w + x] as number;
    }
  }
  return out;
}

/** Central differences (one-sided at the borders), halved so a unit ramp has gradient 1. */
export function gradients(src: Float32Array, w: number, h: number): { gx: Float32Array; gy: Float32Array } {
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const ym = y > 0 ? y - 1 : y;
    const yp = y < h - 1 ? y + 1 : y;
    for (let x = 0; x < w; x++) {
      const xm = x > 0 ? x - 1 : x;
      const xp = x < w - 1 ? x + 1 : x;
      const i = y * w + x;
      gx[i] = ((src[y * w + xp] as number) - (src[y * w + xm] as number)) / (xp - xm || 1);
      gy[i] = ((src[yp * w + x] as number) - (src[ym * w + x] as number)) / (yp - ym || 1);
    }
  }
  return { gx, gy };
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
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let sx = x + (dx[i] as number);
      let sy = y + (dy[i] as number);
      sx = sx < 0 ? 0 : Math.min(sx, maxX);
      sy = sy < 0 ? 0 : Math.min(sy, maxY);
      const x0 = Math.min(sx | 0, Math.max(maxX - 1, 0));
      const y0 = Math.min(sy | 0, Math.max(maxY - 1, 0));
      const fx = sx - x0;
      const fy = sy - y0;
      const a = y0 * w + x0;
      const top = (src[a] as number) + fx * ((src[a + 1] as number) - (src[a] as number));
      const bottom = (src[a + w] as number) + fx * ((src[a + w + 1] as number) - (src[a + w] as number));
      out[i] = top + fy * (bottom - top);
    }
  }
  return out;
}
