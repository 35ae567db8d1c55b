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
  return { width, height, data: Float32Array.from(pixels) };
}

/** Half size by 2x2 averaging (odd edges drop their last row/column); one pyramid step. */
export function halve(img: GreyImage): GreyImage {
  const w = img.width >> 1;
  const h = img.height >> 1;
  const out = new Float32Array(w * h);
  const src = img.data;
  const sw = img.width;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw;
    const r1 = r0 + sw;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] =
        0.25 *
        ((src[r0 + c] as number) + (src[r0 + c + 1] as number) + (src[r1 + c] as number) + (src[r1 + c + 1] as number));
    }
  }
  return { width: w, height: h, data: out };
}

/** `levels` images, finest first. */
export function pyramid(img: GreyImage, levels: number): GreyImage[] {
  const out = [img];
  for (let i = 1; i < levels; i++) out.push(halve(out[i - 1] as GreyImage));
  return out;
}
