import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import cv from '../../device/opencv.ts';
import { snippetBlurHook } from '../../device/privacy.ts';
import { facesConfigSchema } from '../../pipelines/faces/config.ts';
import { FaceDetector } from '../../pipelines/faces/detector.ts';
import { openDatabase } from '../../storage/db.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import { OPENCV_DATA } from '../helpers/cli.ts';
import { tmp, waitFor } from './helpers/fixtures.ts';
import { linkToPhone } from './helpers/phone-link.ts';

const quiet = pino({ level: 'silent' });
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('snippet sync with face blurring (embedded broker, real phone receiver)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('sends the blurred copy, not the original, and the phone verifies it', async () => {
    const dir = tmp();
    const clip = join(dir, 'clip.mp4');
    const cap = new cv.VideoCapture(join(OPENCV_DATA, 'Megamind.avi'));
    const writer = new cv.VideoWriter(clip, cv.VideoWriter.fourcc('avc1'), 24, new cv.Size(720, 528));
    for (let i = 0, m = cap.read(); i < 12 && !m.empty; i++, m = cap.read()) {
      writer.write(m);
      m.release();
    }
    writer.release();
    cap.release();
    const db = openDatabase(join(dir, 'device.db'));
    const original = sha256(clip);
    const transfers = new TransferRepository(db);
    const id = transfers.register({
      kind: 'snippet',
      recordId: 'clip',
      path: clip,
      size: statSync(clip).size,
      sha256: original,
    });
    const hook = snippetBlurHook({
      config: facesConfigSchema.parse({}),
      db,
      dataDir: dir,
      models: () => Promise.reject(new Error('no models needed: nobody is enrolled')),
      logger: quiet,
    });
    const phoneDir = join(dir, 'phone');
    const link = await linkToPhone({ db, phoneDir, ...(hook ? { prepareTransfer: hook } : {}) });
    cleanups.push(() => link.stop());
    await waitFor('the snippet synced', () => transfers.get(id)?.state === 'synced', 120_000);

    const row = transfers.get(id);
    expect(row?.path).toBe(join(dir, 'clip.blurred.mp4'));
    expect(row?.sha256).not.toBe(original);
    const [received] = readdirSync(join(phoneDir, 'snippets'));
    const onPhone = join(phoneDir, 'snippets', received as string);
    expect(sha256(onPhone)).toBe(row?.sha256);
    const checker = new FaceDetector({
      cascade: '/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml',
      detectWidth: 480,
      minSize: 30,
      minNeighbors: 3,
    });
    const video = new cv.VideoCapture(onPhone);
    let faces = 0;
    for (let m = video.read(); !m.empty; m = video.read()) {
      faces += checker.detect(m).length;
      m.release();
    }
    video.release();
    expect(faces).toBe(0);
  }, 180_000);
});
