import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { glance, SAMPLE, tmp } from '../helpers/cli.ts';

interface Truth {
  t0Ns: number;
  events: { attention: { startUs: number; endUs: number }[] };
}

/** Seconds of [a0, a1] covered by the union of `spans`. */
function covered(a0: number, a1: number, spans: readonly [number, number][]): number {
  let total = 0;
  for (const [s, e] of spans) total += Math.max(0, Math.min(a1, e) - Math.max(a0, s));
  return total;
}

/** `glance run` on the sample with `config` (plus a data directory of its own), as a user would run it. */
function runSample(config: object) {
  const dir = tmp();
  writeFileSync(join(dir, 'glance.json'), JSON.stringify({ ...config, device: { dataDir: dir } }));
  const summaryFile = join(dir, 'summary.json');
  const args = ['run', '--config', join(dir, 'glance.json'), '--replay', SAMPLE, '--once', '--summary', summaryFile];
  return { dir, r: glance(args), summaryFile };
}

describe('MemX in the daemon: attention decides, snippets record', () => {
  it('finds the attention episodes of the sample and records whole, checksummed snippets around them', () => {
    const { dir, r, summaryFile } = runSample({
      attention: { enabled: true },
      snippets: { enabled: true, preSeconds: 1, postSeconds: 1 },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      sessionId: string;
      models: string[];
      errors: { count: number };
      stageStats: Record<string, Record<string, number>>;
    };
    expect(summary.errors.count).toBe(0);
    expect(summary.models).toContain('tva@1.0.0');
    expect(summary.stageStats.attention?.runShare).toBeGreaterThan(0.9);

    const truth = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')) as Truth;
    const t0 = truth.t0Ns;
    const db = new Database(join(dir, 'glance.db'), { readonly: true });
    const events = db
      .prepare('SELECT start_t_ns AS s, end_t_ns AS e, model FROM attention_events WHERE session_id = ?')
      .all(summary.sessionId) as { s: number; e: number; model: string }[];
    const spans = events.map((ev) => [(ev.s - t0) / 1e9, (ev.e - t0) / 1e9] as [number, number]);
    const truthSpans = truth.events.attention.map((a) => [a.startUs / 1e6, a.endUs / 1e6] as [number, number]);
    // Every episode found is a true one (it overlaps one), and most of the true attention time is found.
    for (const [s, e] of spans) expect(covered(s, e, truthSpans), `episode ${s}–${e}`).toBeGreaterThan(0.5 * (e - s));
    const truthTotal = truthSpans.reduce((n, [s, e]) => n + (e - s), 0);
    const found = truthSpans.reduce((n, [s, e]) => n + covered(s, e, spans), 0);
    expect(found / truthTotal).toBeGreaterThan(0.75);
    expect(events.every((ev) => ev.model === 'tva@1.0.0')).toBe(true);

    const snippets = db
      .prepare('SELECT path, frames, sha256, start_t_ns AS s, end_t_ns AS e FROM snippets WHERE session_id = ?')
      .all(summary.sessionId) as { path: string; frames: number; sha256: string; s: number; e: number }[];
    db.close();
    expect(snippets.length).toBeGreaterThan(0);
    let previousEnd = Number.NEGATIVE_INFINITY;
    for (const sn of snippets.sort((a, b) => a.s - b.s)) {
      const file = join(dir, sn.path);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sn.sha256);
      const probed = execFileSync('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames,codec_name',
        '-of',
        'csv=p=0',
        file,
      ])
        .toString()
        .trim();
      expect(probed).toBe(`h264,${sn.frames}`);
      // Each snippet begins a pre-capture second before an episode it covers, or right after the previous
      // snippet when that second belongs to it (a frame goes into one snippet only).
      const begin = (sn.s - t0) / 1e9;
      const expected = spans.map(([s]) => Math.max(s - 1, previousEnd + 1 / 30));
      expect(
        expected.some((s) => Math.abs(s - begin) < 0.1),
        `${begin} vs ${expected}`,
      ).toBe(true);
      previousEnd = (sn.e - t0) / 1e9;
    }
  }, 300_000);

  it('records nothing while capture is paused by the config, and says so, while attention still runs', () => {
    const { dir, r, summaryFile } = runSample({ snippets: { capture: 'paused' } });
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      records: Record<string, number>;
      stageStats: Record<string, Record<string, number>>;
    };
    expect(summary.records.attention_events).toBeGreaterThan(0);
    expect(summary.records.snippets).toBe(0);
    expect(summary.stageStats.snippets?.clips).toBe(0);
    const status = glance(['capture', 'status', '--db', join(dir, 'glance.db')]);
    expect(status.stdout).toContain('paused');
  }, 300_000);
});
