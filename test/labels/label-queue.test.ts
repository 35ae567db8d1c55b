import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonExecutable, TRAIN_DIR } from '../../device/commands/train.ts';
import { parseConfig } from '../../device/config.ts';
import { labelsConfigSchema } from '../../pipelines/labels/config.ts';
import { LabelService } from '../../pipelines/labels/label-service.ts';
import { snippetSource } from '../../pipelines/labels/sources.ts';
import { type Db, openDatabase } from '../../storage/db.ts';
import type { CommandReplyV1 } from '../../sync/commands/reply.ts';
import { glance } from '../helpers/cli.ts';
import { tmp, waitFor } from '../sync/helpers/fixtures.ts';
import { type PhoneLink, quiet, startPhoneLink } from './helpers/phone-link.ts';

const SCORES = [0.5, 0.93, 0.08, 0.55, 0.71, 0.3, 0.97, 0.45, 0.62, 0.12, 0.81, 0.5];

function seedSnippets(db: Db, t0: number): void {
  db.prepare(
    `INSERT INTO sessions (id, device, source, started_wall_ms, started_t_ns) VALUES ('s1', 'dev1', 'live', ?, 0)`,
  ).run(t0);
  const insert = db.prepare(
    `INSERT INTO snippets (id, session_id, start_t_ns, end_t_ns, start_wall_ms, frames, width, height, path,
       thumb_path, sidecar_path, bytes, sha256, score, trigger, models, created_ms)
     VALUES (?, 's1', 0, 1, ?, 30, 320, 240, 'a.mp4', 'a.jpg', 'a.json', 1, 'x', ?, 'attention', '["tva@1.0.0"]', ?)`,
  );
  SCORES.forEach((score, i) => {
    insert.run(`clip-${i}`, t0, score, t0 + i);
  });
}

/** Labels and queue state, as text: "nothing changed" is this staying equal. */
const snapshot = (db: Db) =>
  JSON.stringify([
    db.prepare('SELECT * FROM labels ORDER BY id').all(),
    db.prepare('SELECT state FROM label_queue').all(),
  ]);

describe('the device label queue over MQTT', () => {
  const dir = tmp('glance-labels-');
  const dbFile = join(dir, 'device.db');
  const t0 = Date.now();
  let db: Db;
  let service: LabelService;
  let link: PhoneLink;

  beforeAll(async () => {
    db = openDatabase(dbFile);
    seedSnippets(db, t0);
    const config = labelsConfigSchema.parse({ enabled: true, maxPerHour: 3, maxOpen: 5, restartPeriod: 50, seed: 11 });
    service = new LabelService(db, config, [snippetSource(db)], quiet);
    link = await startPhoneLink({ db, dir, labels: service, commands: ['label'] });
  });
  afterAll(async () => {
    await link?.stop();
    db?.close();
  });

  const answer = (body: Record<string, unknown>): Promise<CommandReplyV1> => link.command('label', body);

  const phoneRequests = () => link.events('label-request');

  it('asks at the bounded rate and the requests reach the phone over MQTT', async () => {
    expect(service.tick(t0)).toHaveLength(3); // maxPerHour
    expect(service.tick(t0 + 60_000)).toHaveLength(0); // the same hour: nothing more
    const later = service.tick(t0 + 3_600_001); // a new hour, but only 5 may be open: 2 more
    expect(later).toHaveLength(2);
    expect(service.tick(t0 + 7_300_000)).toHaveLength(0);
    const rows = db.prepare('SELECT * FROM labels ORDER BY asked_at, id').all() as {
      id: string;
      target_id: string;
      criterion: string;
    }[];
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.target_id)).size).toBe(5); // never the same record twice
    expect(
      rows.every((r) => ['uncertainty', 'margin', 'entropy', 'qbc', 'density', 'random'].includes(r.criterion)),
    ).toBe(true);
    await waitFor('five label requests on the phone', () => phoneRequests().length === 5, 15_000);
    const events = phoneRequests();
    expect(events.map((e) => e.recordId).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(events[0]?.data).toMatchObject({
      question: 'Was this moment worth keeping?',
      options: ['yes', 'no'],
      model: 'tva@1.0.0',
    });
    expect(
      db.prepare("SELECT COUNT(*) FROM outbox WHERE kind = 'label-request' AND sent_ms IS NULL").pluck().get(),
    ).toBe(0);
  });

  it('stores an answer from cmd/label and updates the REXP4 weights', async () => {
    const uniform = Object.values(service.weights);
    expect(uniform.every((w) => Math.abs(w - 1 / 6) < 1e-12)).toBe(true);
    const [first] = db.prepare('SELECT id, probabilities FROM labels ORDER BY asked_at, id').all() as {
      id: string;
      probabilities: string;
    }[];
    const pYes = (JSON.parse(first?.probabilities ?? '[]') as number[])[0] as number;
    const reply = await answer({ requestId: first?.id, answer: 'yes', by: 'wearer' });
    expect(reply.ok).toBe(true);
    const result = (reply as { result: { reward: number; weights: Record<string, number> } }).result;
    expect(result.reward).toBeCloseTo(1 - pYes, 12);
    expect(Math.max(...Object.values(result.weights))).toBeGreaterThan(1 / 6 + 1e-6); // the bandit learnt
    expect(service.weights).toEqual(result.weights);
    const row = db
      .prepare('SELECT answer, answered_by, reward, answered_at FROM labels WHERE id = ?')
      .get(first?.id) as Record<string, unknown>;
    expect(row).toMatchObject({ answer: 'yes', answered_by: 'wearer', reward: result.reward });
    const saved = JSON.parse(db.prepare('SELECT state FROM label_queue').pluck().get() as string);
    expect(saved.bandit.weights).toEqual(Object.values(result.weights));
    // The field's earlier name still works (the companion page sends it).
    const [, second] = db.prepare('SELECT id FROM labels ORDER BY asked_at, id').pluck().all() as string[];
    expect((await answer({ requestId: second, label: 'no' })).ok).toBe(true);
    // A restarted daemon continues with the same weights.
    const again = new LabelService(db, labelsConfigSchema.parse({ enabled: true, seed: 11 }), [snippetSource(db)]);
    expect(again.weights).toEqual(service.weights);
  });

  it('refuses unknown, duplicate and invalid answers with a clear error and changes nothing', async () => {
    const [answered, , third] = db.prepare('SELECT id FROM labels ORDER BY asked_at, id').pluck().all() as string[];
    const before = snapshot(db);
    const weights = service.weights;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ requestId: 'nobody-asked', answer: 'yes' }, /no label request nobody-asked/],
      [{ requestId: answered, answer: 'no' }, /already answered/],
      [{ requestId: third, answer: 'maybe' }, /"maybe" is not one of "yes", "no"/],
      [{ requestId: third }, /answer/],
      [{ requestId: third, answer: 'yes', label: 'no' }, /exactly one/],
      [{ requestId: third, answer: 'yes', extra: 1 }, /extra/],
      [{ requestId: '', answer: 'yes' }, /requestId/],
    ];
    for (const [body, message] of cases) {
      const reply = await answer(body);
      expect(reply.ok, JSON.stringify(body)).toBe(false);
      const error = (reply as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('invalid');
      expect(error.message).toMatch(message);
    }
    expect(snapshot(db)).toBe(before);
    expect(service.weights).toEqual(weights);
  });

  it('exports the answered labels as JSON that the toolchain loads', () => {
    const file = join(dir, 'labels.json');
    const result = glance(['labels', 'export', file, '--db', dbFile]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 answered labels/);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    expect(exported.schema).toBe('glance.labels/1');
    expect(exported.labels.map((l: { answer: string }) => l.answer)).toEqual(['yes', 'no']);
    const py = spawnSync(pythonExecutable(), ['-m', 'glance_train.active.labels_file', file], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: TRAIN_DIR },
    });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual({ labels: 2, byKind: { snippet: { yes: 1, no: 1 } } });
    expect(glance(['labels', 'export', file, '--db', join(dir, 'missing.db')]).status).toBe(2);
  });

  it('validates the labels config section', () => {
    expect(parseConfig({ labels: { enabled: true, maxPerHour: 2 } }).labels).toMatchObject({
      enabled: true,
      maxPerHour: 2,
      // The toolchain's validated REXP4 defaults (tools/train/glance_train/active/rexp4.py Rexp4Config).
      exploration: 0.05,
      restartPeriod: 10,
      learningRate: 3,
      adviceScale: 1,
    });
    expect(() => parseConfig({ labels: { exploration: 2 } })).toThrow(/labels.exploration/);
    expect(() => parseConfig({ labels: { criteria: ['margin', 'vibes'] } })).toThrow(/labels.criteria/);
  });
});
