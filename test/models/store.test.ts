import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { activationStack, MemoryModelStore, type ModelStore } from '../../models/store.ts';
import { type Db, openDatabase } from '../../storage/db.ts';
import { ModelRepository } from '../../storage/models.ts';
import { tmpModels } from './helpers.ts';

/** One contract, two stores: what the registry relies on holds in memory and in SQLite (migration 002) alike. */
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

const stores: [string, () => ModelStore][] = [
  ['memory', () => new MemoryModelStore()],
  [
    'sqlite',
    () => {
      const db = openDatabase(join(tmpModels(), 'glance.db'));
      dbs.push(db);
      return new ModelRepository(db);
    },
  ],
];

describe.each(stores)('model store contract (%s)', (_name, make) => {
  it('records installs, one active version per name, and the history in order', () => {
    const s = make();
    s.recordInstall({
      name: 'pupil',
      version: '1.0.0',
      dir: '/m/pupil/1.0.0',
      sha256: 'a'.repeat(64),
      keyId: 'k1',
      installedMs: 1,
    });
    s.recordInstall({
      name: 'pupil',
      version: '1.1.0',
      dir: '/m/pupil/1.1.0',
      sha256: 'b'.repeat(64),
      keyId: 'k1',
      installedMs: 2,
    });
    expect(s.activeVersion('pupil')).toBeUndefined();
    s.setActive('pupil', '1.0.0', 'activate', null, 3);
    s.setActive('pupil', '1.1.0', 'activate', '1.0.0', 4);
    s.recordReject('pupil', '2.0.0', 'sha256: mismatch', 5);
    s.setActive('pupil', '1.0.0', 'rollback', '1.1.0', 6);
    s.setActive('faces', '0.1.0', 'activate', null, 7); // bundled, never installed
    expect(s.activeVersion('pupil')).toBe('1.0.0');
    expect(s.activeVersion('faces')).toBe('0.1.0');
    expect(
      s
        .installed()
        .filter((m) => m.name === 'pupil')
        .map((m) => m.version),
    ).toEqual(['1.0.0', '1.1.0']);
    expect(s.history('pupil').map((e) => [e.kind, e.version, e.fromVersion, e.reason, e.atMs])).toEqual([
      ['install', '1.0.0', null, null, 1],
      ['install', '1.1.0', null, null, 2],
      ['activate', '1.0.0', null, null, 3],
      ['activate', '1.1.0', '1.0.0', null, 4],
      ['reject', '2.0.0', null, 'sha256: mismatch', 5],
      ['rollback', '1.0.0', '1.1.0', null, 6],
    ]);
    expect(s.history().length).toBe(7);
    expect(activationStack(s.history('pupil'))).toEqual(['1.0.0']);
  });
});

it('the SQLite store survives a reopen', () => {
  const file = join(tmpModels(), 'glance.db');
  const a = openDatabase(file);
  new ModelRepository(a).setActive('pupil', '1.0.0', 'activate', null, 1);
  a.close();
  const b = openDatabase(file);
  dbs.push(b);
  expect(new ModelRepository(b).activeVersion('pupil')).toBe('1.0.0');
});
