import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultEyeTrackingConfig } from '../../calibration/config.ts';
import { readSessionTruth, type SessionTruth } from '../../calibration/evaluation/groundtruth.ts';
import { SceneCamera } from '../../calibration/intrinsics/scene-camera.ts';
import { calibrationSettings } from '../../calibration/session/auto-calibration.ts';
import { type CalibrationOutcome, calibrateGaze } from '../../calibration/session/calibrate-gaze.ts';
import type { PupilSample } from '../../calibration/session/pupil-sample.ts';
import { type NaturalTarget, naturalReferences } from '../../calibration/session/references.ts';
import { openDatabase } from '../../storage/db.ts';
import { GazeCalibrationRepository } from '../../storage/gaze-calibrations.ts';
import { detectPupils } from '../../tools/bench/eye.ts';
import { SAMPLE, tmp } from '../helpers/cli.ts';
import { calibrateCli } from './run-cli.ts';

/** The sample's marker targets as natural-feature targets on the session clock (the last 4 validate). */
function truthTargets(truth: SessionTruth): NaturalTarget[] {
  return truth.markers.map((m) => ({
    x: m.x,
    y: m.y,
    startNs: truth.t0Ns + BigInt(m.startUs) * 1000n,
    endNs: truth.t0Ns + BigInt(m.endUs) * 1000n,
    role: m.kind,
  }));
}

describe('gaze calibration from collected observations', () => {
  let truth: SessionTruth;
  let scene: SceneCamera;
  let pupils: PupilSample[];
  const settings = calibrationSettings(defaultEyeTrackingConfig());
  const calibrate = (targets: NaturalTarget[], samples: readonly PupilSample[]): CalibrationOutcome => {
    const { references, targets: t } = naturalReferences(targets);
    return calibrateGaze({ method: 'natural-features', references, targets: t, pupils: samples, scene }, settings);
  };

  beforeAll(() => {
    truth = readSessionTruth(SAMPLE);
    scene = new SceneCamera(truth.sceneCamera);
    const end = truth.t0Ns + 13_500_000_000n;
    pupils = [...detectPupils(SAMPLE, 'eye0'), ...detectPupils(SAMPLE, 'eye1')].filter((s) => s.tNs < end);
  });

  it('natural-feature targets calibrate as well as the marker does', () => {
    const o = calibrate(truthTargets(truth), pupils);
    expect(o.ok).toBe(true);
    expect(o.report.targets.validation).toHaveLength(4);
    expect(o.report.validation?.heldOut).toBe(true);
    expect(o.report.accuracyDeg).toBeLessThan(0.9);
    expect(o.report.normalisation).toEqual({ eye0: 'eye-model', eye1: 'eye-model' });
  });

  it('too few targets: a clear failure, no exception', () => {
    const o = calibrate(truthTargets(truth).slice(0, 2), pupils);
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/too few usable targets: 2 for calibration, at least 3 needed/);
    expect(o.mapping).toBeNull();
  });

  it('few targets fall back to an affine mapping instead of an undetermined polynomial', () => {
    const five = truthTargets(truth)
      .filter((_, i) => [0, 2, 4, 6, 8].includes(i))
      .map((t) => ({ ...t, role: 'calibration' as const }));
    const o = calibrate([...five, ...truthTargets(truth).slice(9)], pupils);
    expect(o.report.degree).toBe('affine');
    expect(o.report.accuracyDeg).toBeLessThan(2.5);
  });

  it('all pupils below the confidence gate: a clear failure', () => {
    const o = calibrate(
      truthTargets(truth),
      pupils.map((s) => ({ ...s, confidence: 0.3 })),
    );
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/no confident pupil on any target/);
    expect(o.report.observations.lowConfidence).toBe(pupils.length);
  });

  it('closed eyes (no pupils at all) and empty input fail cleanly', () => {
    expect(
      calibrate(
        truthTargets(truth),
        pupils.map((s) => ({ ...s, ellipse: null, confidence: 0 })),
      ).ok,
    ).toBe(false);
    expect(calibrate(truthTargets(truth), []).ok).toBe(false);
    expect(
      calibrateGaze({ method: 'single-marker', references: [], targets: [], pupils: [], scene }, settings).ok,
    ).toBe(false);
  });

  it('pupils that do not follow the targets give a poor calibration, rejected with its accuracy', () => {
    const targets = truthTargets(truth);
    // Every pupil reports where the eye was at a random other moment: nothing maps.
    const shuffled = pupils.map((s, i) => ({ ...s, ellipse: pupils[(i * 7919) % pupils.length]?.ellipse ?? null }));
    const o = calibrate(targets, shuffled);
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/accuracy .* worse than the 2.5° allowed/);
  });
});

describe('glance calibrate gaze', () => {
  const dir = tmp('glance-calibrate-gaze-');
  const db = join(dir, 'g.db');

  it('single-marker from the session, then natural features; a failed one keeps the previous active', () => {
    const marker = calibrateCli(['gaze', '--replay', SAMPLE, '--db', db, '--json', join(dir, 'marker.json')]);
    expect(marker.status).toBe(0);
    expect(marker.stdout).toMatch(/gaze calibration #1 accepted: accuracy 0\.\d\d°/);
    const report = JSON.parse(readFileSync(join(dir, 'marker.json'), 'utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: true, calibrationId: 1, activeId: 1, method: 'single-marker' });
    expect(report.accuracyDeg).toBeLessThan(0.9);

    const truth = readSessionTruth(SAMPLE);
    const few = truthTargets(truth)
      .slice(0, 2)
      .map((t) => ({ x: t.x, y: t.y, startNs: String(t.startNs), endNs: String(t.endNs) }));
    writeFileSync(join(dir, 'few.json'), JSON.stringify({ version: 1, targets: few }));
    const failed = calibrateCli([
      'gaze',
      '--replay',
      SAMPLE,
      '--db',
      db,
      '--targets',
      join(dir, 'few.json'),
      '--json',
      join(dir, 'few-out.json'),
    ]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/gaze calibration #2 rejected: too few usable targets.*active calibration: #1/);
    expect(JSON.parse(readFileSync(join(dir, 'few-out.json'), 'utf8'))).toMatchObject({
      ok: false,
      calibrationId: 2,
      activeId: 1,
    });

    const sqlite = new Database(db, { readonly: true });
    const rows = sqlite.prepare('SELECT id, status, method FROM calibrations ORDER BY id').all();
    sqlite.close();
    expect(rows).toEqual([
      { id: 1, status: 'active', method: 'single-marker' },
      { id: 2, status: 'rejected', method: 'natural-features' },
    ]);
  });

  it('bad input exits 2 and names what was wrong', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ targets: [{ x: 1, y: 2 }] }));
    const badTargets = calibrateCli(['gaze', '--replay', SAMPLE, '--db', db, '--targets', join(dir, 'bad.json')]);
    expect(badTargets.status).toBe(2);
    expect(badTargets.stderr).toMatch(
      /--targets: .*bad\.json is invalid: targets\.0: give either startMs\/endMs or startNs\/endNs/,
    );
    const noSession = calibrateCli(['gaze', '--replay', join(dir, 'nowhere'), '--db', db]);
    expect(noSession.status).toBe(2);
    expect(noSession.stderr).toMatch(/has no session\.json/);
  });

  it('the repository keeps one active calibration per wearer', () => {
    const d = openDatabase(join(dir, 'repo.db'));
    const repo = new GazeCalibrationRepository(d);
    const base = {
      method: 'single-marker' as const,
      mapping: { kind: 'x' },
      accuracyDeg: 0.5,
      precisionDeg: 0.1,
      report: {},
    };
    const a = repo.save({ ...base, wearer: 'ann', accepted: true });
    repo.save({ ...base, wearer: 'bob', accepted: true });
    repo.save({ ...base, wearer: 'ann', accepted: false, reason: 'poor', accuracyDeg: Number.NaN });
    expect(repo.active('ann')?.id).toBe(a);
    const b = repo.save({ ...base, wearer: 'ann', accepted: true });
    expect(repo.active('ann')?.id).toBe(b);
    expect(repo.list('ann').map((c) => c.status)).toEqual(['superseded', 'rejected', 'active']);
    expect(repo.list('ann')[1]?.accuracyDeg).toBeNull();
    d.close();
  });
});
