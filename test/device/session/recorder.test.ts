import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenCvCameraSource } from '../../../device/cameras/opencv-source.ts';
import { BadInputError } from '../../../device/errors.ts';
import type { Frame } from '../../../device/frames.ts';
import cv from '../../../device/opencv.ts';
import { readSessionManifest, readTimestamps } from '../../../device/session/format.ts';
import { SessionRecorder } from '../../../device/session/recorder.ts';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const work = mkdtempSync(path.join(tmpdir(), 'glance-recorder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function countFrames(file: string): number {
  const capture = new cv.VideoCapture(file);
  let frames = 0;
  while (!capture.read().empty) frames += 1;
  capture.release();
  return frames;
}

describe('SessionRecorder', () => {
  it('records live frames and serial lines into a complete session', async () => {
    const dir = path.join(work, 'session-1');
    const recorder = await SessionRecorder.start({
      dir,
      id: 'session-1',
      device: 'test-rig',
      streams: { scene: { fps: 10, width: 320, height: 240 } },
      maxPendingWrites: 64,
    });
    expect(JSON.parse(readFileSync(path.join(dir, 'session.json'), 'utf8'))).toMatchObject({ complete: false });

    const source = new OpenCvCameraSource({ stream: 'scene', uri: VTEST });
    const recorded: bigint[] = [];
    for await (const frame of source.frames()) {
      const small: Frame = { ...frame, width: 320, height: 240, mat: frame.mat.resize(240, 320) };
      expect(recorder.writeFrame(small)).toBe(true);
      recorded.push(frame.tNs);
      if (frame.index % 20 === 0) recorder.writeSerialLine(process.hrtime.bigint(), `BTN ${frame.index}\r\n`);
      if (recorded.length === 60) break;
    }
    const manifest = await recorder.stop();

    expect(recorder.stats()).toEqual({ written: { scene: 60 }, dropped: { scene: 0 } });
    expect(manifest).toMatchObject({ id: 'session-1', complete: true, serial: 'serial.log' });
    expect(manifest.streams.scene).toMatchObject({ file: 'scene.mp4', timestamps: 'scene.ts', frames: 60 });
    // The shared reader accepts what the recorder wrote.
    const onDisk = readSessionManifest(dir);
    expect(onDisk).toMatchObject({ complete: true, streams: { scene: { fps: 10, width: 320, height: 240 } } });

    const timestamps = readTimestamps(path.join(dir, 'scene.ts'));
    expect([...timestamps]).toEqual(recorded);
    expect(countFrames(path.join(dir, 'scene.mp4'))).toBe(60);
    const video = new cv.VideoCapture(path.join(dir, 'scene.mp4'));
    expect([video.get(cv.CAP_PROP_FRAME_WIDTH), video.get(cv.CAP_PROP_FRAME_HEIGHT)]).toEqual([320, 240]);
    video.release();

    const serial = readFileSync(path.join(dir, 'serial.log'), 'utf8').trimEnd().split('\n');
    expect(serial.map((line) => line.replace(/^\d+ /, ''))).toEqual(['BTN 0', 'BTN 20', 'BTN 40']);
    console.info(`recorder codec: ${manifest.streams.scene?.codec}`);
  });

  it('refuses frames that would put video and timestamps out of step, and existing sessions', async () => {
    const dir = path.join(work, 'session-2');
    const recorder = await SessionRecorder.start({
      dir,
      id: 'session-2',
      device: 'test-rig',
      streams: { eye0: { fps: 30, width: 64, height: 48, isColor: false } },
    });
    const mat = new cv.Mat(48, 64, cv.CV_8UC1, 128);
    const frame: Frame = { stream: 'eye0', index: 0, tNs: 1000n, width: 64, height: 48, mat };
    expect(recorder.writeFrame(frame)).toBe(true);
    expect(() => recorder.writeFrame({ ...frame, index: 1 })).toThrow(/not after the previous frame/);
    const wrongSize = new cv.Mat(40, 64, cv.CV_8UC1, 0);
    expect(() => recorder.writeFrame({ ...frame, tNs: 2000n, height: 40, mat: wrongSize })).toThrow(/does not fit/);
    expect(() => recorder.writeFrame({ ...frame, stream: 'scene' })).toThrow(/not part of this recording/);
    const manifest = await recorder.stop();
    expect(manifest.streams.eye0?.frames).toBe(1);
    expect(countFrames(path.join(dir, 'eye0.mp4'))).toBe(1);

    await expect(
      SessionRecorder.start({
        dir,
        id: 'again',
        device: 'test-rig',
        streams: { eye0: { fps: 30, width: 64, height: 48 } },
      }),
    ).rejects.toBeInstanceOf(BadInputError);
  });
});
