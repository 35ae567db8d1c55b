import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../device/logger.ts';
import { SessionReplay } from '../../device/session/replay.ts';
import { CaptureState } from '../../pipelines/snippets/capture-state.ts';
import { type MomentEvent, SnippetRecorder, type SnippetSettings } from '../../pipelines/snippets/recorder.ts';
import { openDatabase } from '../../storage/db.ts';
import { DeviceState } from '../../storage/device-state.ts';
import { SessionRepository } from '../../storage/sessions.ts';
import { SnippetRepository } from '../../storage/snippets.ts';
import { SAMPLE } from '../helpers/cli.ts';

export interface Episode {
  readonly startNs: bigint;
  readonly endNs: bigint;
}

/** The sample's true attention episodes (groundtruth.json), on the session's clock. */
export function sampleEpisodes(): Episode[] {
  const gt = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')) as {
    t0Ns: number;
    events: { attention: Array<{ startUs: number; endUs: number }> };
  };
  const t0 = BigInt(gt.t0Ns);
  return gt.events.attention.map((a) => ({
    startNs: t0 + BigInt(a.startUs) * 1000n,
    endNs: t0 + BigInt(a.endUs) * 1000n,
  }));
}

/** The true gaze at each scene frame of the sample, in scene pixels. */
export function sampleSceneGaze(): { x: number; y: number }[] {
  const gt = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')) as {
    scene: { gazeX: number[]; gazeY: number[] };
  };
  return gt.scene.gazeX.map((x, i) => ({ x, y: gt.scene.gazeY[i] ?? 0 }));
}

export const SETTINGS: SnippetSettings = {
  preSeconds: 1,
  postSeconds: 1,
  maxSeconds: 20,
  width: 320,
  fps: 30,
  retention: { budgetBytes: 100e6, maxAgeDays: 0, minFreeBytes: 0 },
};

/**
 * Replays the sample's scene stream through a real SnippetRecorder (real OpenCV, sharp, SQLite), with the true
 * attention episodes as its moments — the attention stage's job in the daemon. `onFrame` may pause or resume.
 */
export async function recordSample(options: {
  dataDir: string;
  dbFile: string;
  settings?: Partial<SnippetSettings>;
  episodes?: Episode[];
  /** Moments to replay as they are (several triggers); overrides `episodes`. */
  moments?: MomentEvent[];
  onFrame?: (tNs: bigint, capture: CaptureState) => void;
  /** Hand the recorder the sample's true gaze at each scene frame (the gaze stage's job in the daemon). */
  trueGaze?: boolean;
  /** A session laid out like the sample (same clocks), e.g. with another scene video; default the sample. */
  session?: string;
}) {
  const gazeTruth = options.trueGaze ? sampleSceneGaze() : undefined;
  const db = openDatabase(options.dbFile);
  const sessionId = `s${Date.now()}`;
  const session = options.session ?? SAMPLE;
  new SessionRepository(db).start({ id: sessionId, device: 'test', source: session, startedWallMs: 0, startedTNs: 0n });
  const repo = new SnippetRepository(db, options.dataDir);
  const capture = new CaptureState(new DeviceState(db));
  const recorder = new SnippetRecorder({
    settings: { ...SETTINGS, ...options.settings },
    dataDir: options.dataDir,
    sessionId,
    repo,
    capture,
    logger: createLogger('silent'),
    wallMsAt: (tNs) => Number(tNs / 1_000_000n),
    models: () => ['test@0'],
  });
  const events: MomentEvent[] = options.moments
    ? [...options.moments]
    : (options.episodes ?? sampleEpisodes()).flatMap((e) => [
        { kind: 'start' as const, tNs: e.startNs, score: 1, trigger: 'attention' as const },
        { kind: 'end' as const, tNs: e.endNs, score: 1, trigger: 'attention' as const },
      ]);
  const replay = new SessionReplay(session, 'fast');
  const sceneTimes: bigint[] = [];
  for await (const frame of replay.frames()) {
    if (frame.stream !== 'scene') {
      frame.mat.release();
      continue;
    }
    options.onFrame?.(frame.tNs, capture);
    while (events.length > 0 && (events[0] as MomentEvent).tNs <= frame.tNs)
      recorder.onMoment(events.shift() as MomentEvent);
    const g = gazeTruth?.[frame.index];
    recorder.onScene(frame.mat, frame.tNs, g ? { ...g, confidence: 1 } : null, 0);
    sceneTimes.push(frame.tNs);
    frame.mat.release();
  }
  replay.close();
  await recorder.finish();
  return { db, repo, capture, recorder, sceneTimes };
}
