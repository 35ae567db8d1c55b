/** A grey image in row-major float32 (0..255): the working type of the flow, cheap to index from JS. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Dense flow: `from(x, y) ≈ to(x + dx, y + dy)`, the convention of OpenCV's calcOpticalFlowFarneback(from, to). */
export interface Flow {
  readonly width: number;
  readonly height: number;
  readonly dx: Float32Array;
  readonly dy: Float32Array;
}

export function greyImage(width: number, height: number, pixels: ArrayLike<number>): GreyImage {
  if (pixels.length !== width * height) {
    throw new Error(`grey image ${width}x${height} needs ${width * height} pixels, got ${pixels.length}`);
  }
  // The typed-array constructor converts a Uint8Array/Buffer natively; Float32Array.from walks an iterator (slower).
  return { width, height, data: new Float32Array(pixels) };
}

/**
 * Half size by 2x2 averaging (odd edges drop their last row/column); one pyramid step. `src` is sw×sh, `out` has
 * room for (sw >> 1)×(sh >> 1).
 */
export function halve(src: Float32Array, sw: number, sh: number, out: Float32Array): Float32Array {
  const w = sw >> 1;
  const h = sh >> 1;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw;
    const r1 = r0 + sw;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[o + x] =
        0.25 *
        ((src[r0 + c] as number) + (src[r0 + c + 1] as number) + (src[r1 + c] as number) + (src[r1 + c + 1] as number));
    }
  }
  return out;
}
