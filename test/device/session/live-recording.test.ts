import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import cv from '../../../device/opencv.ts';
import { LiveRecording } from '../../../device/session/live-recording.ts';
import { SessionRecorder } from '../../../device/session/recorder.ts';

const work = mkdtempSync(path.join(tmpdir(), 'glance-live-recording-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('LiveRecording', () => {
  it('keeps the serial lines that arrive before the cameras start, and writes them first', async () => {
    const dir = path.join(work, 'rec');
    const recording = new LiveRecording(
      (o) => SessionRecorder.start(o),
      { dir, id: 'live-1', device: 'test-rig' },
      ['scene'],
      { scene: 10 },
    );
    // The microcontroller talks before the scene camera's first frame: the recorder does not exist yet.
    recording.onSerialLine(1_000n, '$TMP,0,40*7D');
    recording.onSerialLine(2_000n, 'garbage without a checksum');
    const mat = new cv.Mat(240, 320, cv.CV_8UC3, [10, 20, 30]);
    try {
      recording.onFrame({ stream: 'scene', index: 0, tNs: 3_000n, width: 320, height: 240, mat });
      recording.onSerialLine(4_000n, '$TMP,1,40.1*63');
      await recording.stop();
    } finally {
      mat.release();
    }
    const lines = readFileSync(path.join(dir, 'serial.log'), 'utf8').trim().split('\n');
    // The line after the frame came while the recorder was still starting: kept too, in order.
    expect(lines).toEqual(['1000 $TMP,0,40*7D', '2000 garbage without a checksum', '4000 $TMP,1,40.1*63']);
    expect(recording.earlySerialDropped).toBe(0);
  });
});
