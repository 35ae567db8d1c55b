import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandEffects } from '../../device/command-effects.ts';
import { CaptureState } from '../../pipelines/snippets/capture-state.ts';
import { openDatabase } from '../../storage/db.ts';
import { DeviceState } from '../../storage/device-state.ts';
import { FaceRepository, type NewFace } from '../../storage/faces.ts';
import { SessionRepository } from '../../storage/sessions.ts';
import { COMMANDS } from '../../sync/commands/table.ts';

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'glance-faces-'));
  const db = openDatabase(join(dataDir, 'glance.db'));
  new SessionRepository(db).start({ id: 's1', device: 'd', source: 'test', startedWallMs: 1, startedTNs: 1n });
  const repo = new FaceRepository(db, dataDir);
  mkdirSync(join(dataDir, 'faces', 's1'), { recursive: true });
  let n = 0;
  /** Stores a track (with a real crop file) for `personId`, new or not. */
  const add = (personId: string, isNew: boolean, e = [1, 0, 0]) => {
    const id = `f${n++}`;
    const cropPath = join('faces', 's1', `${id}.png`);
    writeFileSync(join(dataDir, cropPath), 'png');
    const face: NewFace = {
      ...{ id, sessionId: 's1', startTNs: BigInt(n), endTNs: BigInt(n + 1), seenWallMs: 1000 + n, detections: 5 },
      ...{ crops: 4, cropPath, embedding: Float32Array.from(e), quality: 50 + n, model: 'face-track@1.0.0' },
    };
    repo.addTrack(face, { personId, isNew, merges: [] });
    return id;
  };
  const count = (sql: string, ...args: unknown[]) =>
    (db
      .prepare(sql)
      .pluck()
      .get(...args) as number) ?? 0;
  return { db, dataDir, repo, add, count };
}

describe('FaceRepository', () => {
  it('stores tracks with their person and announces the person to the phone in the same transaction', () => {
    const { repo, add, count } = setup();
    add('pa', true, [1, 0, 0]);
    add('pa', false, [0, 1, 0]);
    const p = repo.person('pa');
    expect(p?.tracks).toBe(2);
    expect(Array.from(p?.sum ?? [])).toEqual([1, 1, 0]);
    expect(count("SELECT COUNT(*) FROM outbox WHERE kind = 'person' AND record_id = 'pa'")).toBe(2);
  });

  it('names, merges and splits, keeping sums and events consistent', () => {
    const { repo, add, count } = setup();
    add('pa', true);
    add('pb', true, [0, 1, 0]);
    const f = add('pb', false, [0, 1, 0]);
    expect(repo.name('pb', 'Roxanne', true).enrolled).toBe(true);
    const merged = repo.merge('pa', ['pb']);
    expect(merged.tracks).toBe(3);
    expect(merged.name).toBe('Roxanne'); // the merged-in name survives
    expect(repo.person('pb')).toBeUndefined();
    expect(count("SELECT COUNT(*) FROM outbox WHERE record_id = 'pb' AND payload LIKE '%merged%'")).toBe(1);
    const split = repo.split('pa', [f]);
    expect(split.tracks).toBe(1);
    expect(repo.person('pa')?.tracks).toBe(2);
    expect(() => repo.split('pa', repo.faceIds('pa'))).toThrow(/at least one track/);
    expect(() => repo.merge('pa', ['nobody'])).toThrow(/no person nobody/);
  });

  it('forgetting a person removes every row and file derived from them, and withdraws undelivered events', () => {
    const { db, dataDir, repo, add, count } = setup();
    const mine = [add('pa', true), add('pa', false), add('pa', false)];
    const other = add('pb', true, [0, 1, 0]);
    repo.name('pa', 'Someone', true);
    const files = mine.map((id) => join(dataDir, 'faces', 's1', `${id}.png`));
    expect(files.every((f) => existsSync(f))).toBe(true);
    expect(repo.forget('pa')).toEqual({ faces: 3, files: 3 });
    expect(files.some((f) => existsSync(f))).toBe(false);
    expect(count("SELECT COUNT(*) FROM faces WHERE person_id = 'pa' OR id IN (?, ?, ?)", ...mine)).toBe(0);
    expect(count("SELECT COUNT(*) FROM people WHERE id = 'pa'")).toBe(0);
    // nothing left anywhere that carries their name or their embeddings
    expect(count("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%Someone%'")).toBe(0);
    expect(count("SELECT COUNT(*) FROM outbox WHERE record_id = 'pa' AND payload LIKE '%forgotten%'")).toBe(1);
    // the other person is untouched
    expect(existsSync(join(dataDir, 'faces', 's1', `${other}.png`))).toBe(true);
    expect(repo.person('pb')?.tracks).toBe(1);
    db.close();
  });
});

describe('people commands', () => {
  it('validate their requests and run on the device database through the command effects', async () => {
    const { db, dataDir, repo, add } = setup();
    add('pa', true);
    add('pb', true, [0, 1, 0]);
    const capture = new CaptureState(new DeviceState(db));
    const effects = commandEffects({
      capture,
      models: async () => never(),
      recalibrate: undefined,
      sessionId: 's1',
      db,
      dataDir,
    });
    const run = async (name: string, request: unknown) => {
      const prepared = COMMANDS.get(name)?.prepare(request);
      if (prepared === undefined) throw new Error(`no command ${name}`);
      if ('error' in prepared) return { error: prepared.error };
      return { result: await prepared.run(effects) };
    };
    expect(await run('people/name', { v: 1, correlationId: 'c1', personId: 'pa', name: '  ' })).toEqual({
      error: expect.stringMatching(/^name:/),
    });
    expect(await run('people/name', { v: 1, correlationId: 'c1', personId: 'pa', name: 'Ana' })).toEqual({
      result: { id: 'pa', name: 'Ana', enrolled: true, tracks: 1 },
    });
    expect(await run('people/merge', { v: 1, correlationId: 'c2', into: 'pa', from: ['pb'] })).toEqual({
      result: { id: 'pa', name: 'Ana', enrolled: true, tracks: 2 },
    });
    await expect(run('people/forget', { v: 1, correlationId: 'c3', personId: 'pb' })).rejects.toThrow(/no person pb/);
    expect(await run('people/forget', { v: 1, correlationId: 'c4', personId: 'pa' })).toEqual({
      result: { faces: 2, files: 2 },
    });
    expect(repo.people()).toHaveLength(0);
  });
});

function never(): never {
  throw new Error('no models in this test');
}
