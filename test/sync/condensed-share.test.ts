import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../storage/db.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import { glance, ROOT } from '../helpers/cli.ts';
import { tmp, waitFor } from './helpers/fixtures.ts';
import { linkToPhone } from './helpers/phone-link.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * A real condensed set from the toolchain (iris, distribution matching, a few iterations: the file format is
 * what is under test, not its quality) and files that look like one but are not, made with numpy itself.
 */
const MAKE = `
import json, sys, numpy as np
from pathlib import Path
from glance_train.condense.store import save_condensed, load_condensed
d = Path(sys.argv[1]); good = load_condensed(d / "good.npz")
save_condensed(d / "bad-y.npz", good.x, np.full_like(good.y, 7), {k: v for k, v in good.meta.items() if k != "schema"})
save_condensed(d / "bad-n.npz", good.x[:-1], good.y, {k: v for k, v in good.meta.items() if k != "schema"})
blob = lambda m: np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)
np.savez_compressed(d / "bad-schema.npz", x=good.x, y=good.y, meta=blob({**good.meta, "schema": "other/1"}))
np.savez_compressed(d / "raw.npz", x=good.x, y=good.y, meta=blob(good.meta), raw=np.zeros((3, 4), np.float32))
np.savez_compressed(d / "bad-x.npz", x=good.x.astype(np.float64), y=good.y, meta=blob(good.meta))
`;

describe('glance share: a condensed dataset reaches the phone (embedded broker, real phone receiver)', () => {
  const dir = tmp('glance-share-');
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(() => {
    const train = join(ROOT, 'tools/train');
    execFileSync(
      '/usr/bin/python3',
      ['-m', 'glance_train.condense', '--dataset', 'iris', '--method', 'dm', '--ipc', '2', '--iterations', '30'].concat(
        ['--eval-seeds', '0', '--quiet', '--out', join(dir, 'good.npz')],
      ),
      { cwd: train },
    );
    execFileSync('/usr/bin/python3', ['-c', MAKE, dir], { cwd: train });
  }, 120_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it.each([
    ['bad-schema.npz', 'meta.schema'],
    ['raw.npz', 'unexpected arrays raw.npy'],
    ['bad-y.npz', 'y[0] = 7 is not a class index (3 classes)'],
    ['bad-n.npz', 'x has 5 records, y has 6'],
    ['bad-x.npz', 'x is <f8, expected float32'],
  ])('refuses %s, naming what is wrong, and queues nothing', (file, why) => {
    const refused = tmp('glance-share-refused-');
    const db = join(refused, 'device.db');
    const r = glance(['share', join(dir, file), '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: `);
    expect(r.stderr).toContain(why);
    if (existsSync(db)) {
      const conn = openDatabase(db);
      expect(new TransferRepository(conn).counts().pending).toBe(0);
      conn.close();
    }
    expect(existsSync(join(refused, 'shared'))).toBe(false);
  });

  it('refuses a truncated file and a missing one', () => {
    const good = readFileSync(join(dir, 'good.npz'));
    writeFileSync(join(dir, 'cut.npz'), good.subarray(0, good.length - 40));
    const cut = glance(['share', join(dir, 'cut.npz'), '--db', join(dir, 'refused.db')]);
    expect(cut.status).toBe(2);
    expect(cut.stderr).toContain('not a readable .npz');
    const missing = glance(['share', join(dir, 'missing.npz'), '--db', join(dir, 'refused.db')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('missing.npz: cannot read');
    writeFileSync(join(dir, 'huge.npz'), '');
    truncateSync(join(dir, 'huge.npz'), 70 * 1024 * 1024); // sparse: takes no disk
    const huge = glance(['share', join(dir, 'huge.npz'), '--db', join(dir, 'refused.db')]);
    expect(huge.status).toBe(2);
    expect(huge.stderr).toContain('huge.npz: 73400320 bytes is not a condensed set');
    const noDb = glance(['share', join(dir, 'good.npz'), '--db', join(dir, 'typo', 'glance.db')]);
    expect(noDb.status).toBe(2);
    expect(noDb.stderr).toContain('typo/glance.db does not exist');
  });

  it('queues a condensed set once, and a running sync delivers it byte for byte', async () => {
    const dbFile = join(dir, 'device.db');
    const db = openDatabase(dbFile);
    const transfers = new TransferRepository(db);
    const phoneDir = join(dir, 'phone');
    const link = await linkToPhone({ db, phoneDir });
    cleanups.push(
      () => {
        db.close();
      },
      () => link.stop(),
    );

    // Another process (the CLI) queues the file while the daemon's sync is running on the same database.
    const first = glance(['share', join(dir, 'good.npz'), '--db', dbFile, '--json']);
    expect(first.status, first.stderr).toBe(0);
    const queued = JSON.parse(first.stdout) as { transferId: string; queued: boolean; records: number; path: string };
    expect(queued).toMatchObject({ queued: true, records: 6 });
    const again = JSON.parse(glance(['share', join(dir, 'good.npz'), '--db', dbFile, '--json']).stdout);
    expect(again).toMatchObject({ transferId: queued.transferId, queued: false });

    await waitFor('the condensed set synced', () => transfers.get(queued.transferId)?.state === 'synced', 60_000);
    const [received] = readdirSync(join(phoneDir, 'snippets'));
    expect(received).toBe(`${queued.transferId}-${basename(queued.path)}`);
    expect(sha256(join(phoneDir, 'snippets', received as string))).toBe(sha256(join(dir, 'good.npz')));
    const ledger = readFileSync(join(phoneDir, 'snippets.jsonl'), 'utf8').trim().split('\n');
    expect(ledger.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ kind: 'condensed', transferId: queued.transferId }),
    ]);
    expect(transfers.counts()).toMatchObject({ synced: 1, pending: 0, failed: 0 });
  }, 120_000);
});
