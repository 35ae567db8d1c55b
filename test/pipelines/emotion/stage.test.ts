import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, replayOnce, tmp } from '../../helpers/cli.ts';

/**
 * The emotion stage in the daemon, on a synthetic session with emotion episodes (the bundled sample has none, and
 * adding them would change its eye streams): generated into a temp dir by the toolchain's generator, replayed
 * through `glance run`, then read back from SQLite.
 */
interface Episode {
  emotion: string;
  onsetUs: number;
  offsetUs: number;
  causeObjectId: number;
  causeClass: string;
}

const EARLY_US = 750_000; // a window of eye frames may cross the threshold a little before the labelled onset
/** Share of the records starting inside an episode that should name the episode's emotion ("most"). */
const CLASS_MATCH = 0.75;

describe('emotion stage on a session with emotion episodes', () => {
  let dir: string;
  let db: Database.Database;
  let episodes: Episode[];
  let truth: { t0Ns: number; scene: { tUs: number[]; attended: number[]; objects: { id: number; cls: string }[] } };
  let summary: { records: Record<string, number>; models: string[] };

  beforeAll(() => {
    dir = tmp('glance-emo-session-');
    const session = join(dir, 'session');
    const gen = spawnSync(
      '/usr/bin/python3',
      ['-m', 'glance_train.emotion.session', '--out', session, '--seconds', '40', '--seed', '3'],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: join(ROOT, 'tools/train') }, encoding: 'utf8', timeout: 400_000 },
    );
    if (gen.status !== 0) throw new Error(`session generation failed: ${gen.stderr}`);
    truth = JSON.parse(readFileSync(join(session, 'groundtruth.json'), 'utf8'));
    episodes = (truth as unknown as { emotion: { episodes: Episode[] } }).emotion.episodes;
    // The default pipeline (attention on); the emotion stage (off by default) enabled with its defaults.
    const run = replayOnce(session, dir, { emotion: { enabled: true } });
    if (run.status !== 0) throw new Error(`glance run failed (${run.status}): ${run.stderr}`);
    summary = JSON.parse(readFileSync(run.summary, 'utf8'));
    db = new Database(run.db, { readonly: true });
  }, 600_000);

  it('the session has ground-truth episodes and the daemon ran the emotion model', () => {
    expect(episodes.length).toBeGreaterThanOrEqual(2);
    expect(summary.models.some((m) => m.startsWith('emotion-ship@'))).toBe(true);
  });

  type Row = {
    id: string;
    emotion: string;
    onset: bigint;
    model: string;
    snippet: string | null;
    label: string | null;
  };
  const rows = (): Row[] =>
    db
      .prepare(
        `SELECT id, emotion, onset_t_ns AS onset, model, snippet_id AS snippet, cause_label AS label
         FROM emotionship ORDER BY onset_t_ns`,
      )
      .safeIntegers(true)
      .all() as Row[];
  const seconds = (tNs: bigint) => Number(tNs - BigInt(truth.t0Ns)) / 1e9;
  const episodeOf = (r: Row) =>
    episodes.find((e) => seconds(r.onset) * 1e6 >= e.onsetUs - EARLY_US && seconds(r.onset) * 1e6 <= e.offsetUs);

  it('writes records with name@version, their outbox rows, and links to existing snippets or none', () => {
    const all = rows();
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(Number(summary.records.emotionship)).toBe(all.length);
    for (const r of all) {
      expect(r.model).toMatch(/^emotion-ship@\d/);
      if (r.snippet !== null) expect(db.prepare('SELECT 1 FROM snippets WHERE id = ?').get(r.snippet)).toBeDefined();
      const outbox = db.prepare("SELECT payload FROM outbox WHERE kind = 'emotionship' AND record_id = ?").get(r.id) as
        | { payload: string }
        | undefined;
      expect(JSON.parse(outbox?.payload ?? '{}')).toMatchObject({
        schema: 'emotionship.v1',
        id: r.id,
        emotion: r.emotion,
      });
    }
    process.stderr.write(
      `emotion stage: ${all.length} records; ${all.filter(episodeOf).length} with onsets inside the ${episodes.length} episodes\n`,
    );
  });

  it('finds every ground-truth episode: a record starts inside each', () => {
    for (const e of episodes) {
      const hit = rows().some((r) => episodeOf(r) === e);
      expect(hit, `no record starts in the ${e.emotion} episode at ${e.onsetUs / 1e6} s`).toBe(true);
    }
  });

  it('every record starts inside a ground-truth episode (no false alarms)', () => {
    for (const r of rows()) expect(episodeOf(r), `record at ${seconds(r.onset).toFixed(2)} s`).toBeDefined();
  });

  const classes = () => {
    const inside = rows().filter((r) => episodeOf(r) !== undefined);
    const matching = inside.filter((r) => episodeOf(r)?.emotion === r.emotion);
    process.stderr.write(
      `emotion classes: ${inside.map((r) => `${r.emotion} in ${episodeOf(r)?.emotion}`).join(', ')}\n`,
    );
    return { inside, matching };
  };

  it("reads at least one episode's emotion right: its first record names it", () => {
    // emotion-ship@1.1.0 read none right (happy as sad, sad as disgust); 1.2.0 reads the happy one (docs/emotion.md)
    const right = episodes.filter((e) => rows().find((r) => episodeOf(r) === e)?.emotion === e.emotion);
    expect(right.length).toBeGreaterThanOrEqual(1);
  });

  // Not yet: 1.2.0 reads the sad episode as angry (1 of 2 records right). Passes here while the gap remains, and
  // fails (so it must become a plain test) once most records name their episode's emotion.
  it.fails(`most records name their episode's emotion (at least ${CLASS_MATCH * 100} %)`, () => {
    const { inside, matching } = classes();
    expect(inside.length).toBeGreaterThanOrEqual(episodes.length);
    expect(matching.length / inside.length).toBeGreaterThanOrEqual(CLASS_MATCH);
  });

  it('names as the cause of each detected episode an object that was at the gaze before its onset', () => {
    const cls = new Map(truth.scene.objects.map((o) => [o.id, o.cls]));
    // the detection of an episode: the first record that starts inside it
    const detected = episodes
      .map((e) => rows().find((r) => episodeOf(r) === e))
      .filter((r): r is Row => r !== undefined && r.label !== null);
    expect(detected.length).toBeGreaterThanOrEqual(1);
    for (const r of detected) {
      const us = seconds(r.onset) * 1e6;
      const seen = new Set<string>();
      truth.scene.tUs.forEach((t, i) => {
        const obj = truth.scene.attended[i] ?? -1;
        if (t >= us - 3_000_000 && t <= us && obj >= 0) seen.add(cls.get(obj) ?? '');
      });
      expect([...seen], `cause ${r.label} at ${(us / 1e6).toFixed(2)} s`).toContain(r.label);
    }
  });
});
