import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../storage/db.ts';
import { Outbox } from '../../storage/outbox.ts';
import { UndeliveredOutbox } from '../../storage/outbox-undelivered.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import type { ManifestV1 } from '../../sync/messages.ts';
import { TokenBucket } from '../../sync/rate-limit.ts';
import { PartialFile } from '../../sync/transfer/partial-file.ts';
import { EventLog } from '../../tools/receiver/event-log.ts';
import { JsonLedger } from '../../tools/receiver/json-ledger.ts';
import { tmp } from './helpers/fixtures.ts';

const event = (seq: number, recordId: string) => ({
  v: 1 as const,
  seq,
  kind: 'snippet',
  recordId,
  createdMs: 1,
  data: {},
});

describe('sync repositories', () => {
  it('drains pending and undelivered rows in id order, and forgets receipted ones', () => {
    const db = openDatabase(join(tmp(), 'a.db'));
    const outbox = new Outbox(db);
    const undelivered = new UndeliveredOutbox(db);
    const ids = ['a', 'b', 'c', 'd'].map((r) => outbox.enqueue('snippet', r, { r }));
    const [a, b, c] = ids as [number, number, number, number];
    outbox.markSent(a);
    outbox.markSent(b);
    undelivered.add(b, 1); // b: the broker had it, the phone never confirmed
    expect(undelivered.next(0, 10).map((r) => r.recordId)).toEqual(['b', 'c', 'd']);
    expect(undelivered.next(c, 10).map((r) => r.recordId)).toEqual(['d']);
    expect(undelivered.firstEligible()).toBe(b);
    expect(undelivered.confirm(b)).toBe(true);
    expect(undelivered.confirm(b)).toBe(false);
    expect(undelivered.next(0, 10).map((r) => r.recordId)).toEqual(['c', 'd']);
    expect(undelivered.next(0, 1)[0]).toMatchObject({ id: c, kind: 'snippet', payload: '{"r":"c"}' });
    db.close();
  });

  it('moves a transfer from pending to synced, keeping its chunk size once started', () => {
    const db = openDatabase(join(tmp(), 'b.db'));
    const transfers = new TransferRepository(db);
    const id = transfers.register({ kind: 'snippet', recordId: 'r', path: '/f', size: 10, sha256: 'f'.repeat(64) });
    expect(transfers.nextOpen()).toMatchObject({ id, state: 'pending', chunkBytes: null });
    expect(transfers.begin(id, 4)).toMatchObject({ state: 'sending', chunkBytes: 4 });
    expect(transfers.begin(id, 8)?.chunkBytes).toBe(4);
    expect(transfers.recordProgress(id, 2, 3)).toBe(true);
    expect(transfers.markSynced(id, 3)).toBe(true);
    expect(transfers.get(id)).toMatchObject({ state: 'synced', ackedChunks: 3, nextChunk: 3 });
    expect(transfers.recordProgress(id, 0, 0)).toBe(false); // a synced transfer no longer moves
    expect(transfers.counts()).toEqual({ pending: 0, sending: 0, synced: 1, failed: 0 });
    expect(() =>
      transfers.register({ id: 'a/b', kind: 's', recordId: 'r', path: '/f', size: 1, sha256: 'f'.repeat(64) }),
    ).toThrow(/topic level/);
    db.close();
  });
});

describe('token bucket', () => {
  it('lets a burst through, then paces to the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 10, () => now);
    for (let i = 0; i < 10; i++) expect(bucket.take(1)).toBe(0);
    expect(bucket.take(1)).toBeCloseTo(10); // one token at 100/s is 10 ms away
    now += 1000;
    expect(bucket.take(5)).toBe(0); // refilled, but never beyond the burst
    expect(bucket.take(10)).toBeGreaterThan(0);
  });
});

describe('receiver event log', () => {
  it('stores each record once, also across a restart, and cuts a torn last line', async () => {
    const file = join(tmp(), 'events.jsonl');
    const log = new EventLog(file);
    expect(log.append(event(1, 'a'))).toBe(true);
    await log.sync();
    expect(log.append(event(2, 'a'))).toBe(false);
    log.close();
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":3,"kind":"snip`); // a crash mid-write
    const again = new EventLog(file);
    expect(again.append(event(1, 'a'))).toBe(false);
    expect(again.append(event(3, 'b'))).toBe(true);
    again.close();
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).recordId),
    ).toEqual(['a', 'b']);
  });
});

describe('receiver partial file', () => {
  const manifest: ManifestV1 = {
    ...{ v: 1, transferId: 't1', kind: 'snippet', recordId: 'r', name: 'clip.mp4' },
    ...{ size: 10, sha256: 'a'.repeat(64), chunkBytes: 4, chunks: 3 },
  };

  const openPart = (dir: string, m: ManifestV1) =>
    PartialFile.open(join(dir, `${m.transferId}.part`), m, new JsonLedger(join(dir, `${m.transferId}.json`), m));

  it('tracks the contiguous prefix and the gaps, and resumes from what it saved', async () => {
    const dir = tmp();
    const part = openPart(dir, manifest);
    part.write(0, Buffer.from('0123'));
    part.write(2, Buffer.from('89'));
    expect(part.next).toBe(1);
    expect(part.missing()).toEqual([1]);
    expect(part.write(0, Buffer.from('0123'))).toBe(false);
    expect(await part.save()).toEqual({ next: 1, missing: [1] });
    await part.close();
    const resumed = openPart(dir, manifest);
    expect(resumed.next).toBe(1);
    resumed.write(1, Buffer.from('4567'));
    expect(resumed.complete).toBe(true);
    await resumed.close();
    expect(readFileSync(resumed.partPath, 'utf8')).toBe('0123456789');
    // A different file under the same id starts afresh.
    expect(openPart(dir, { ...manifest, sha256: 'b'.repeat(64) }).next).toBe(0);
  });
});
