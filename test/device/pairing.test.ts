import { describe, expect, it } from 'vitest';
import type { Frame, StreamName } from '../../device/frames.ts';
import cv from '../../device/opencv.ts';
import { FramePairer, type PairedScene } from '../../device/pairing.ts';

const pixels = new cv.Mat(2, 2, cv.CV_8UC1, 0);
const frame = (stream: StreamName, index: number, tMs: number): Frame => ({
  stream,
  index,
  tNs: BigInt(Math.round(tMs * 1e6)),
  width: 2,
  height: 2,
  mat: pixels,
});

/** Free-running streams merged in time order: eyes at 120 Hz (offset from each other), scene at 30 Hz. */
function merged(seconds: number): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i * (1000 / 120) < seconds * 1000; i++) frames.push(frame('eye0', i, 1 + i * (1000 / 120)));
  for (let i = 0; i * (1000 / 120) < seconds * 1000; i++) frames.push(frame('eye1', i, 3.7 + i * (1000 / 120)));
  for (let i = 0; i * (1000 / 30) < seconds * 1000; i++) frames.push(frame('scene', i, 10 + i * (1000 / 30)));
  return frames.sort((a, b) => (a.tNs < b.tNs ? -1 : a.tNs > b.tNs ? 1 : 0));
}

describe('FramePairer', () => {
  it('pairs every scene frame with the eye frame nearest in time, in scene order', () => {
    const input = merged(2);
    const pairer = new FramePairer(['eye0', 'eye1'], 20);
    const out: PairedScene[] = [];
    for (const f of input) out.push(...pairer.push(f));
    out.push(...pairer.flush());
    const scenes = input.filter((f) => f.stream === 'scene');
    expect(out.map((p) => p.scene.index)).toEqual(scenes.map((s) => s.index));
    for (const p of out) {
      for (const eye of ['eye0', 'eye1'] as const) {
        const candidates = input.filter((f) => f.stream === eye);
        const best = candidates.reduce((a, b) =>
          Math.abs(Number(b.tNs - p.scene.tNs)) < Math.abs(Number(a.tNs - p.scene.tNs)) ? b : a,
        );
        expect(p[eye]?.index, `${eye} for scene ${p.scene.index}`).toBe(best.index);
      }
    }
  });

  it('leaves an eye unpaired when its nearest frame is beyond the skew limit, and never waits on an ended eye', () => {
    const pairer = new FramePairer(['eye0', 'eye1'], 5);
    expect(pairer.push(frame('eye0', 0, 0))).toEqual([]);
    expect(pairer.push(frame('scene', 0, 10))).toEqual([]); // eye0 has no frame after t=10 yet
    expect(pairer.push(frame('eye0', 1, 12))).toEqual([]); // eye1 still undecided
    const out = pairer.endEye('eye1');
    expect(out).toHaveLength(1);
    expect(out[0]?.eye0?.index).toBe(1);
    expect(out[0]?.eye1).toBeNull();
    expect(pairer.push(frame('scene', 1, 40))).toEqual([]);
    const tail = pairer.flush();
    expect(tail[0]?.eye0).toBeNull(); // last eye0 frame is 28 ms away, beyond 5 ms
  });
});
