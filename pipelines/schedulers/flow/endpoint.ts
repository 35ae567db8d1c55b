import type { Flow } from './image.ts';

/** Mean endpoint distance between two flows of the same size (px): how far apart their vectors end. */
export function meanEndpointError(a: Flow, b: Flow): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`endpoint error needs equal sizes, got ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  let sum = 0;
  for (let i = 0; i < a.dx.length; i++)
    sum += Math.hypot((a.dx[i] as number) - (b.dx[i] as number), (a.dy[i] as number) - (b.dy[i] as number));
  return sum / a.dx.length;
}

/** The flow from interleaved (dx, dy) float32 pairs, OpenCV's CV_32FC2 layout. */
export function flowFromInterleaved(width: number, height: number, xy: Float32Array): Flow {
  if (xy.length !== 2 * width * height) throw new Error(`flow ${width}x${height} needs ${2 * width * height} floats`);
  const dx = new Float32Array(width * height);
  const dy = new Float32Array(width * height);
  for (let i = 0; i < dx.length; i++) {
    dx[i] = xy[2 * i] as number;
    dy[i] = xy[2 * i + 1] as number;
  }
  return { width, height, dx, dy };
}

export function zeroFlow(width: number, height: number): Flow {
  return { width, height, dx: new Float32Array(width * height), dy: new Float32Array(width * height) };
}
