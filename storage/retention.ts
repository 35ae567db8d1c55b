import { rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { SnippetRepository } from './snippets.ts';

export interface RetentionPolicy {
  /** Bytes all snippets may take. */
  readonly budgetBytes: number;
  /** Synced snippets older than this go even under budget (0: keep while there is room). */
  readonly maxAgeDays: number;
  /** Free bytes to keep on the file system whatever the budget says. */
  readonly minFreeBytes: number;
}

export type RecordingAdvice = 'full' | 'reduced' | 'stop';

export interface RetentionReport {
  readonly evicted: string[];
  readonly bytes: number;
  readonly unsyncedBytes: number;
  readonly freeBytes: number;
  /** `reduced` when unsynced memories near the budget, `stop` when they fill it or the disk is nearly full. */
  readonly advice: RecordingAdvice;
  readonly reason: string | null;
}

/**
 * Keeps snippets within a byte budget and an age. The oldest synced snippets go first; unsynced ones are never
 * deleted — when they alone fill the budget the advice is to stop recording, and the reason is reported.
 */
export function enforceRetention(
  repo: SnippetRepository,
  dataDir: string,
  policy: RetentionPolicy,
  nowMs = Date.now(),
): RetentionReport {
  const evicted: string[] = [];
  let { all } = repo.totalBytes();
  const maxAgeMs = policy.maxAgeDays * 86_400_000;
  for (const s of repo.listByAge()) {
    if (s.syncState !== 'synced') continue;
    const tooOld = policy.maxAgeDays > 0 && nowMs - s.createdMs > maxAgeMs;
    if (!tooOld && all <= policy.budgetBytes) break;
    // The row goes first: a row must never point at a missing file, while a stray file is swept later.
    repo.delete(s.id);
    for (const f of [s.path, s.thumbPath, s.sidecarPath]) rmSync(join(dataDir, f), { force: true });
    all -= s.bytes;
    evicted.push(s.id);
  }
  const { unsynced } = repo.totalBytes();
  const freeBytes = freeSpace(dataDir);
  let advice: RecordingAdvice = 'full';
  let reason: string | null = null;
  if (freeBytes < policy.minFreeBytes) {
    advice = 'stop';
    reason = `disk nearly full: ${mb(freeBytes)} MB free, ${mb(policy.minFreeBytes)} MB required`;
  } else if (unsynced >= policy.budgetBytes) {
    advice = 'stop';
    reason = `unsynced snippets fill the budget (${mb(unsynced)} of ${mb(policy.budgetBytes)} MB): sync to free space`;
  } else if (unsynced >= 0.8 * policy.budgetBytes) {
    advice = 'reduced';
    reason = `unsynced snippets near the budget (${mb(unsynced)} of ${mb(policy.budgetBytes)} MB): recording at reduced size`;
  }
  return { evicted, bytes: all, unsyncedBytes: unsynced, freeBytes, advice, reason };
}

export function freeSpace(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
