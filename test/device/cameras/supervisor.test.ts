import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenCvCameraSource } from '../../../device/cameras/opencv-source.ts';
import type { Frame } from '../../../device/frames.ts';
import cv from '../../../device/opencv.ts';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const work = mkdtempSync(path.join(tmpdir(), 'glance-supervisor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A real pino logger whose JSON lines land in an array. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A short clip, so that end of stream (a camera going away) comes quickly. */
function writeClip(file: string, frames: number): void {
  const capture = new cv.VideoCapture(VTEST);
  const writer = new cv.VideoWriter(file, cv.VideoWriter.fourcc('MJPG'), 10, new cv.Size(160, 120));
  for (let i = 0; i < frames; i++) writer.write(capture.read().resize(120, 160));
  writer.release();
  capture.release();
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function drain(frames: AsyncIterable<Frame>): Promise<void> {
  for await (const _ of frames);
}

describe('SupervisedSource (through OpenCvCameraSource)', () => {
  it('retries a missing camera while another stream keeps delivering', async () => {
    const missing = path.join(work, 'no-such-camera.avi');
    const { logger, lines } = capturingLogger();
    const broken = new OpenCvCameraSource(
      { stream: 'eye0', uri: missing },
      { logger, backoff: { initialDelayMs: 10, maxDelayMs: 40 } },
    );
    const brokenDone = drain(broken.frames());

    const scene = new OpenCvCameraSource({ stream: 'scene', uri: VTEST });
    let delivered = 0;
    for await (const _ of scene.frames()) {
      delivered += 1;
      if (delivered === 40) break;
    }
    await waitFor(() => broken.status().failures >= 3);
    const status = broken.status();
    broken.close();
    await brokenDone;

    expect(delivered).toBe(40);
    expect(scene.status()).toMatchObject({ framesRead: 40, failures: 0 });
    expect(status).toMatchObject({ stream: 'eye0', state: 'retrying', framesRead: 0 });
    expect(status.lastError).toContain(missing);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings.length).toBe(status.failures);
    expect(warnings[0]).toMatchObject({ stream: 'eye0', source: missing, failures: 1, retryInMs: 10 });
    expect(warnings[2]).toMatchObject({ failures: 3, retryInMs: 40 });
  });

  it('reopens a camera that reached end of stream and keeps counting frames', async () => {
    const clip = path.join(work, 'clip20.avi');
    writeClip(clip, 20);
    const { logger, lines } = capturingLogger();
    const source = new OpenCvCameraSource(
      { stream: 'eye1', uri: clip },
      { logger, backoff: { initialDelayMs: 5, maxDelayMs: 20 } },
    );
    const frames: Frame[] = [];
    for await (const frame of source.frames()) {
      frames.push(frame);
      if (frames.length === 50) break;
    }

    expect(frames.map((f) => f.index)).toEqual([...Array(50).keys()]);
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i] as Frame).tNs > (frames[i - 1] as Frame).tNs).toBe(true);
    }
    expect(frames.every((f) => f.width === 160 && f.height === 120)).toBe(true);
    const status = source.status();
    expect(status.failures).toBe(2);
    expect(status.lastError).toMatch(/end of stream/);
    expect(lines.filter((line) => line.level === 30 && line.stream === 'eye1')).toHaveLength(2);
  });

  it('close() during a backoff wait ends iteration promptly', async () => {
    const source = new OpenCvCameraSource(
      { stream: 'eye0', uri: path.join(work, 'gone.avi') },
      { backoff: { initialDelayMs: 30_000, maxDelayMs: 60_000 } },
    );
    const done = drain(source.frames());
    await waitFor(() => source.status().failures === 1);

    const started = performance.now();
    source.close();
    await done;

    expect(performance.now() - started).toBeLessThan(100);
    expect(source.status()).toMatchObject({ state: 'ended', failures: 1 });
  });
});
