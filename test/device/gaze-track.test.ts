import { describe, expect, it } from 'vitest';
import { GazeTrack } from '../../device/gaze-track.ts';

const p = (t: number) => ({ tNs: BigInt(t), x: t, y: -t, confidence: 1 });

describe('GazeTrack', () => {
  it('keeps the newest points once full, oldest first', () => {
    const track = new GazeTrack(3);
    for (let t = 1; t <= 5; t++) track.push(p(t));
    expect(track.size).toBe(3);
    expect(track.between(0n, 10n).map((g) => g.x)).toEqual([3, 4, 5]);
    expect(track.between(3n, 4n).map((g) => g.x)).toEqual([4]);
  });

  it('answers the gaze at a time only when it is recent enough', () => {
    const track = new GazeTrack();
    track.push(p(100));
    track.push(p(200));
    expect(track.at(250n, 100n)?.x).toBe(200);
    expect(track.at(150n, 100n)?.x).toBe(100);
    expect(track.at(400n, 100n)).toBeNull();
    expect(track.at(50n, 100n)).toBeNull();
  });
});
