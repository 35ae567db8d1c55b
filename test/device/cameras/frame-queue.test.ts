import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FrameQueue, feedQueues } from '../../../device/cameras/frame-queue.ts';
import { OpenCvCameraSource } from '../../../device/cameras/opencv-source.ts';
import type { Frame } from '../../../device/frames.ts';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

async function* take<T>(items: AsyncIterable<T>, count: number): AsyncGenerator<T> {
  if (count <= 0) return;
  let taken = 0;
  for await (const item of items) {
    yield item;
    taken += 1;
    if (taken === count) return;
  }
}

describe('FrameQueue', () => {
  it('keeps the newest frames and counts what it drops', async () => {
    const queue = new FrameQueue<number>(3);
    for (let i = 0; i < 10; i++) queue.push(i);
    queue.close();
    const received: number[] = [];
    for await (const item of queue) received.push(item);

    expect(received).toEqual([7, 8, 9]);
    expect({ pushed: queue.pushed, dropped: queue.dropped }).toEqual({ pushed: 10, dropped: 7 });
  });

  it('drops the oldest frames for a slow consumer only, without holding up capture', async () => {
    const source = new OpenCvCameraSource({ stream: 'scene', uri: VTEST });
    const fast = new FrameQueue<Frame>(4);
    const slow = new FrameQueue<Frame>(4);
    const fed = feedQueues(take(source.frames(), 40), [fast, slow]);

    const fastSeen: number[] = [];
    const slowSeen: number[] = [];
    await Promise.all([
      fed,
      (async () => {
        for await (const frame of fast) fastSeen.push(frame.index);
      })(),
      (async () => {
        for await (const frame of slow) {
          slowSeen.push(frame.index);
          await delay(25);
        }
      })(),
    ]);

    expect(fastSeen).toEqual([...Array(40).keys()]);
    expect(fast.dropped).toBe(0);
    expect(slow.dropped).toBeGreaterThan(0);
    expect(slowSeen.length + slow.dropped).toBe(40);
    expect(slowSeen.at(-1)).toBe(39);
    expect(slowSeen.every((index, i) => i === 0 || index > (slowSeen[i - 1] as number))).toBe(true);
    expect(source.status().state).toBe('ended');
  });

  it('stops feeding a consumer that left', async () => {
    const queue = new FrameQueue<number>(2);
    queue.push(1);
    for await (const _ of queue) break;
    expect(queue.push(2)).toBe(false);
    expect(queue.pushed).toBe(1);
  });
});
