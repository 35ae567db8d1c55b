import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { CalibrationOutcome } from '../../calibration/session/calibrate-gaze.ts';
import { openDatabase } from '../../storage/db.ts';
import { BadInputError, EXIT_OK, EXIT_RUNTIME, messageOf } from '../errors.ts';

const DEFAULT_DB = 'data/glance.db';
const DEFAULT_DEVICE = 'glance-dev';

interface IntrinsicsFlags {
  images: string;
  pattern: string;
  square: number;
  json?: string;
  db: string;
  deviceId: string;
}

interface GazeFlags {
  replay: string;
  db: string;
  json?: string;
  targets?: string;
  wearer: string;
}

/**
 * `glance calibrate intrinsics|gaze`. Both store their result in the device database (intrinsics per device,
 * gaze mappings per wearer) and can write it as JSON. A gaze calibration that fails or is too inaccurate is
 * stored as rejected with its reason, the wearer's previous calibration stays active, and the exit code is 1.
 * OpenCV is loaded inside the actions so that other commands start without it.
 */
export function registerCalibrateCommand(program: Command): void {
  const calibrate = program.command('calibrate').description('scene-camera intrinsics and gaze calibration');
  calibrate
    .command('intrinsics')
    .description('chessboard calibration of the scene camera (OpenCV calibrateCamera)')
    .requiredOption(
      '--images <glob>',
      "chessboard images, quoted so the shell leaves the pattern alone: 'data/left*.jpg'",
    )
    .requiredOption('--pattern <COLSxROWS>', 'inner corners per row and column, e.g. 9x6')
    .option('--square <mm>', 'side of one square, mm', parsePositive, 25)
    .option('--json <file>', 'write { rms, cameraMatrix, distCoeffs, imagesUsed } here')
    .option('--db <file>', 'device database the intrinsics are stored in', DEFAULT_DB)
    .option('--device-id <id>', 'device the intrinsics belong to', DEFAULT_DEVICE)
    .action(async (opts: IntrinsicsFlags) => {
      process.exitCode = await intrinsicsCommand(opts);
    });
  calibrate
    .command('gaze')
    .description('gaze calibration from a recorded session: the single marker in its scene video, or --targets')
    .requiredOption('--replay <dir>', 'recorded session that shows the calibration choreography')
    .option('--db <file>', 'device database the calibration is stored in', DEFAULT_DB)
    .option('--json <file>', 'write the calibration report here')
    .option('--targets <file>', 'natural-feature targets (JSON: { "targets": [{ x, y, startMs, endMs }] })')
    .option('--wearer <id>', 'whose calibration this is', 'default')
    .action(async (opts: GazeFlags) => {
      process.exitCode = await gazeCommand(opts);
    });
}

export async function intrinsicsCommand(opts: IntrinsicsFlags): Promise<number> {
  const { parsePattern } = await import('../../calibration/intrinsics/chessboard-pattern.ts');
  const { globFiles } = await import('../../calibration/intrinsics/image-glob.ts');
  const pattern = parsePattern(opts.pattern, opts.square);
  if (pattern === null) throw new BadInputError(`--pattern: expected COLSxROWS such as 9x6, got ${opts.pattern}`);
  const files = globFiles(opts.images);
  if (files.length === 0) throw new BadInputError(`--images: no files match ${opts.images}`);
  const { calibrateIntrinsics, IntrinsicsError } = await import('../../calibration/intrinsics/chessboard.ts');
  let result: Awaited<ReturnType<typeof calibrateIntrinsics>>;
  try {
    result = calibrateIntrinsics(files, pattern);
  } catch (error) {
    if (error instanceof IntrinsicsError) throw new BadInputError(`--images: ${error.message}`);
    throw error;
  }
  const { CameraIntrinsicsRepository } = await import('../../storage/camera-intrinsics.ts');
  const db = openDatabase(opts.db);
  try {
    new CameraIntrinsicsRepository(db).save({ device: opts.deviceId, camera: 'scene', ...result });
  } finally {
    db.close();
  }
  const { rms, cameraMatrix, distCoeffs, imagesUsed } = result;
  if (opts.json) writeJson(opts.json, { rms, cameraMatrix, distCoeffs, imagesUsed });
  process.stdout.write(
    `intrinsics: rms ${rms.toFixed(4)} px from ${imagesUsed} of ${files.length} images; ` +
      `fx ${cameraMatrix[0]?.toFixed(1)} fy ${cameraMatrix[4]?.toFixed(1)} cx ${cameraMatrix[2]?.toFixed(1)} cy ${cameraMatrix[5]?.toFixed(1)}; ` +
      `stored for device ${opts.deviceId} in ${resolve(opts.db)}\n`,
  );
  return EXIT_OK;
}

export async function gazeCommand(opts: GazeFlags): Promise<number> {
  const { SessionReplay } = await import('../session/replay.ts');
  const { defaultEyeTrackingConfig } = await import('../../calibration/config.ts');
  const { calibrateFromFrames } = await import('../../calibration/session/calibrate-frames.ts');
  const { parseNaturalTargets } = await import('../../calibration/session/targets-file.ts');
  const { readSessionIntrinsics } = await import('../../calibration/intrinsics/session-intrinsics.ts');
  const { SceneCamera } = await import('../../calibration/intrinsics/scene-camera.ts');
  const { CameraIntrinsicsRepository } = await import('../../storage/camera-intrinsics.ts');
  const { GazeCalibrationRepository } = await import('../../storage/gaze-calibrations.ts');
  const { readTimestamps, sessionStreams } = await import('../session/format.ts');

  const dir = resolve(opts.replay);
  const replay = new SessionReplay(dir, 'fast');
  const db = openDatabase(opts.db);
  try {
    let origin: bigint | null = null;
    for (const s of sessionStreams(dir, replay.manifest)) {
      const first = readTimestamps(s.timestamps)[0];
      if (first !== undefined && (origin === null || first < origin)) origin = first;
    }
    const targets =
      opts.targets === undefined ? undefined : readTargets(opts.targets, origin ?? 0n, parseNaturalTargets);
    const config = defaultEyeTrackingConfig();
    const given = readSessionIntrinsics(dir);
    const stored = new CameraIntrinsicsRepository(db).latest(replay.manifest.device);
    const scene = (width: number, height: number) =>
      given !== undefined
        ? new SceneCamera(given)
        : stored !== undefined && stored.width === width && stored.height === height
          ? new SceneCamera(stored)
          : SceneCamera.nominal(width, height, config.sceneFallbackHfovDeg);
    const { outcome } = await calibrateFromFrames(replay.frames(), { config, scene, ...(targets ? { targets } : {}) });
    const repo = new GazeCalibrationRepository(db);
    const previous = repo.active(opts.wearer)?.id ?? null;
    const id = repo.save({
      wearer: opts.wearer,
      method: targets ? 'natural-features' : 'single-marker',
      accepted: outcome.ok,
      mapping: outcome.mapping,
      accuracyDeg: outcome.report.accuracyDeg,
      precisionDeg: outcome.report.precisionDeg,
      reason: outcome.reason ?? null,
      report: outcome.report,
    });
    const active = repo.active(opts.wearer)?.id ?? null;
    if (opts.json) writeJson(opts.json, gazeJson(outcome, id, previous, active));
    process.stdout.write(`${gazeSummary(outcome, id, active)}\n`);
    return outcome.ok ? EXIT_OK : EXIT_RUNTIME;
  } finally {
    replay.close();
    db.close();
  }
}

function readTargets<T>(file: string, origin: bigint, parse: (raw: unknown, origin: bigint) => T): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BadInputError(`--targets: cannot read ${file}: ${messageOf(error)}`);
  }
  try {
    return parse(raw, origin);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const why = issues
      ? issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
      : messageOf(error);
    throw new BadInputError(`--targets: ${file} is invalid: ${why}`);
  }
}

function gazeJson(o: CalibrationOutcome, id: number, previousActive: number | null, active: number | null) {
  return {
    ok: o.ok,
    ...(o.reason ? { reason: o.reason } : {}),
    calibrationId: id,
    previousActiveId: previousActive,
    activeId: active,
    method: o.report.method,
    accuracyDeg: o.report.accuracyDeg,
    precisionDeg: o.report.precisionDeg,
    report: o.report,
  };
}

function gazeSummary(o: CalibrationOutcome, id: number, active: number | null): string {
  const acc = o.report.accuracyDeg === null ? 'n/a' : `${o.report.accuracyDeg.toFixed(2)}°`;
  const prec = o.report.precisionDeg === null ? 'n/a' : `${o.report.precisionDeg.toFixed(2)}°`;
  const targets = `${o.report.targets.calibration.length} calibration + ${o.report.targets.validation.length} validation targets`;
  return o.ok
    ? `gaze calibration #${id} accepted: accuracy ${acc}, precision ${prec} (${targets}); now active`
    : `gaze calibration #${id} rejected: ${o.reason}; accuracy ${acc}; active calibration: ${active === null ? 'none' : `#${active}`}`;
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}
