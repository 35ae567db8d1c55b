import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import cv, { type Mat } from '../../../device/opencv.ts';
import { snippetBlurHook } from '../../../device/privacy.ts';
import { facesConfigSchema } from '../../../pipelines/faces/config.ts';
import { type Box, FaceDetector } from '../../../pipelines/faces/detector.ts';
import { iou } from '../../../pipelines/faces/tracker.ts';
import { TransferRepository } from '../../../storage/transfers.ts';
import { OPENCV_DATA, SAMPLE, tmp } from '../../helpers/cli.ts';
import { waitFor } from '../../sync/helpers/fixtures.ts';
import { linkToPhone } from '../../sync/helpers/phone-link.ts';
import { recordSample, sampleEpisodes } from '../snippet-harness.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The sample session with Megamind.avi (opencv-doc; real faces) as its scene camera, on the sample's clocks. */
function sessionWithFaces(dir: string): string {
  const session = join(dir, 'session');
  mkdirSync(session);
  for (const f of readdirSync(SAMPLE)) if (f !== 'scene.mp4') symlinkSync(join(SAMPLE, f), join(session, f));
  execFileSync('ffmpeg', [
    ...['-loglevel', 'error', '-stream_loop', '4', '-i', join(OPENCV_DATA, 'Megamind.avi'), '-an'],
    ...['-vf', 'scale=640:480,fps=30', '-frames:v', '900', '-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    join(session, 'scene.mp4'),
  ]);
  return session;
}

/**
 * Per frame, the faces two cascades find at a lower bar than the faces stage (minNeighbors 3, as the blur test
 * checks; 1 is the cascades' lowest).
 */
function facesIn(video: string, minNeighbors = 3): Box[][] {
  const checkers = ['haarcascade_frontalface_alt2.xml', 'haarcascade_frontalface_default.xml'].map(
    (c) =>
      new FaceDetector({
        cascade: `/usr/share/opencv4/haarcascades/${c}`,
        detectWidth: 480,
        minSize: 24,
        minNeighbors,
      }),
  );
  const cap = new cv.VideoCapture(video);
  const frames: Box[][] = [];
  for (let m = cap.read(); !m.empty; m = cap.read()) {
    frames.push(checkers.flatMap((c) => c.detect(m)));
    m.release();
  }
  cap.release();
  return frames;
}

/**
 * How much of the original's fine detail the copy keeps in the box's inner half: mean |Laplacian| of the copy
 * over that of the original. Blurring replaces a face with a smooth colour field (≈ 0); an untouched face keeps
 * its detail (≈ 1, less what the H.264 round trip loses).
 */
function detailKept(original: Mat, copy: Mat, box: Box): number {
  const [x, y, w, h] = box.map(Math.round) as [number, number, number, number];
  const inner = new cv.Rect(x + w / 4, y + h / 4, Math.max(1, w / 2), Math.max(1, h / 2));
  const detail = (m: Mat) => {
    const region = m.getRegion(inner);
    const grey = region.cvtColor(cv.COLOR_BGR2GRAY);
    const lap = grey.laplacian(cv.CV_32F);
    const abs = lap.abs();
    const sum = abs.sum() as number;
    for (const r of [region, grey, lap, abs]) r.release();
    return sum / (inner.width * inner.height);
  };
  return detail(copy) / Math.max(detail(original), 1e-6);
}

interface Hit {
  readonly frame: number;
  readonly box: Box;
}

/**
 * What of the original's faces the copy still shows:
 * - `notHidden`: faces the checkers find in the original clip whose centre keeps over half its detail in the copy;
 * - `visible`: faces the checkers find in the copy whose centre keeps over half its detail and that persist, seen at
 *   the same place (IoU > 0.3) in at least 3 frames of 5. A face hidden in the original that the cascades only
 *   find once a brighter face beside it is blurred (they equalise the whole frame) counts here: that is the miss
 *   this test first caught. A blurred region's colour field or its edge can trip a cascade at this low bar (seen:
 *   a box over a whole blurred head, an ear beside a blur), but such hits flicker: one frame, never three.
 */
function whatIsLeft(original: string, copy: string): { notHidden: Hit[]; faces: number; visible: Hit[] } {
  const inOriginal = facesIn(original);
  const inCopy = facesIn(copy);
  const a = new cv.VideoCapture(original);
  const b = new cv.VideoCapture(copy);
  const notHidden: Hit[] = [];
  const unblurred: Hit[] = [];
  for (let frame = 0; frame < inCopy.length; frame++) {
    const ma = a.read();
    const mb = b.read();
    for (const box of inOriginal[frame] ?? []) if (detailKept(ma, mb, box) > 0.5) notHidden.push({ frame, box });
    for (const box of inCopy[frame] ?? []) if (detailKept(ma, mb, box) > 0.5) unblurred.push({ frame, box });
    ma.release();
    mb.release();
  }
  a.release();
  b.release();
  const visible = unblurred.filter((h) => {
    const near = unblurred.filter((o) => o !== h && Math.abs(o.frame - h.frame) <= 2 && iou(o.box, h.box) > 0.3);
    return new Set(near.map((o) => o.frame).filter((f) => f !== h.frame)).size >= 2;
  });
  return { notHidden, faces: inOriginal.flat().length, visible };
}

describe('a snippet the recorder made leaves for the phone with its faces blurred', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('records a clip with faces, and the phone receives and verifies a copy with none', async () => {
    const dir = tmp('glance-recorded-privacy-');
    const episode = sampleEpisodes()[0];
    if (!episode) throw new Error('the sample has no attention episode');
    const dataDir = join(dir, 'data');
    const { db } = await recordSample({
      dataDir,
      dbFile: join(dir, 'g.db'),
      session: sessionWithFaces(dir),
      episodes: [episode],
    });
    cleanups.push(() => {
      db.close();
    });
    const clip = db.prepare('SELECT id, path FROM snippets').all() as { id: string; path: string }[];
    expect(clip).toHaveLength(1);
    const original = join(dataDir, clip[0]?.path as string);
    const before = facesIn(original);
    const framesWithFaces = before.filter((f) => f.length > 0).length;
    expect(framesWithFaces, 'the recorded clip must show faces, or this test proves nothing').toBeGreaterThan(20);
    const transfers = new TransferRepository(db);
    const row = db.prepare("SELECT id FROM transfers WHERE kind = 'snippet'").get() as { id: string };

    const hook = snippetBlurHook({
      config: facesConfigSchema.parse({}), // defaults: blurSnippets on, nobody enrolled
      db,
      dataDir,
      models: () => Promise.reject(new Error('no models needed: nobody is enrolled')),
      logger: pino({ level: 'silent' }),
    });
    expect(hook).toBeDefined();
    const phoneDir = join(dir, 'phone');
    const link = await linkToPhone({ db, phoneDir, ...(hook ? { prepareTransfer: hook } : {}) });
    cleanups.push(() => link.stop());
    await waitFor('the snippet synced', () => transfers.get(row.id)?.state === 'synced', 150_000);

    const sent = transfers.get(row.id);
    expect(sent?.path.endsWith('.blurred.mp4')).toBe(true);
    const [received] = readdirSync(join(phoneDir, 'snippets'));
    const onPhone = join(phoneDir, 'snippets', received as string);
    expect(sha256(onPhone)).toBe(sent?.sha256);
    const left = whatIsLeft(original, onPhone);
    expect(left.faces).toBeGreaterThan(20);
    expect(left.notHidden).toEqual([]);
    expect(left.visible).toEqual([]);
  }, 240_000);
});
