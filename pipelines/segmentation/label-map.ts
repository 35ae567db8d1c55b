/** A segmented scene frame: one class index per pixel at the size the network ran at. */
export interface LabelMap {
  readonly tNs: bigint;
  readonly width: number;
  readonly height: number;
  /** Row-major class indices into `classes`. */
  readonly labels: Uint8Array;
  readonly classes: readonly string[];
  /** Pixels per class, same order as `classes`. */
  readonly histogram: Uint32Array;
  /** Mean over pixels of the winning class's softmax probability: how sure the network was. */
  readonly confidence: number;
  readonly scale: number;
  /** `name@version` of the model that produced it. */
  readonly model: string;
  /** On a map propagated by optical flow to frame `tNs`: the key frame the network ran on. */
  readonly keyTNs?: bigint;
}

/** Pixels per class of a label map. */
export function classHistogram(labels: Uint8Array, classes: number): Uint32Array {
  const histogram = new Uint32Array(classes);
  for (let p = 0; p < labels.length; p++) {
    const c = labels[p] as number;
    histogram[c] = (histogram[c] as number) + 1;
  }
  return histogram;
}

/**
 * Argmax over the class axis of NCHW logits (batch 1), with the class histogram and the mean winning
 * probability, in one pass over the pixels.
 */
export function decodeLogits(
  logits: Float32Array,
  classes: number,
  width: number,
  height: number,
): { labels: Uint8Array; histogram: Uint32Array; confidence: number } {
  const plane = width * height;
  if (logits.length !== classes * plane) {
    throw new Error(`logits hold ${logits.length} values, expected ${classes}x${height}x${width}`);
  }
  const labels = new Uint8Array(plane);
  const histogram = new Uint32Array(classes);
  let confidence = 0;
  for (let p = 0; p < plane; p++) {
    let best = 0;
    let max = logits[p] as number;
    for (let c = 1; c < classes; c++) {
      const v = logits[c * plane + p] as number;
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp((logits[c * plane + p] as number) - max);
    confidence += 1 / sum;
    labels[p] = best;
    histogram[best] = (histogram[best] as number) + 1;
  }
  return { labels, histogram, confidence: plane > 0 ? confidence / plane : 0 };
}

/** The class at scene pixel (x, y) of a frame `sceneWidth`×`sceneHeight`, or null outside the frame. */
export function classAt(map: LabelMap, x: number, y: number, sceneWidth: number, sceneHeight: number): string | null {
  if (!(x >= 0 && y >= 0 && x < sceneWidth && y < sceneHeight)) return null;
  // Pixel centres: scene pixel x covers [x, x+1), which maps to label column floor((x + 0.5) · w / W).
  const col = Math.min(map.width - 1, Math.floor(((Math.floor(x) + 0.5) * map.width) / sceneWidth));
  const row = Math.min(map.height - 1, Math.floor(((Math.floor(y) + 0.5) * map.height) / sceneHeight));
  return map.classes[map.labels[row * map.width + col] as number] ?? null;
}
