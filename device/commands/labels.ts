import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { withRecordFeatures } from '../../pipelines/labels/export-features.ts';
import { answeredLabels, labelsFile } from '../../storage/labels.ts';
import { BadInputError, messageOf } from '../errors.ts';

/**
 * `glance labels export FILE`: the wearer's answered labels as one JSON file (schema glance.labels/1) for the
 * toolchain (glance_train.active.labels_file); emotion labels carry their record's embedding and logits. The database is opened read-only, so a running daemon is not
 * disturbed; the file is written whole or not at all.
 */
export function registerLabelsCommand(program: Command): void {
  const labels = program.command('labels').description('the active-learning labels the wearer gave');
  labels
    .command('export')
    .description('write the answered labels as JSON for retraining')
    .argument('<file>', 'output JSON file')
    .option('--db <file>', 'SQLite database file', 'data/glance.db')
    .action((file: string, opts: { db: string }) => {
      const path = resolve(opts.db);
      if (!existsSync(path)) throw new BadInputError(`--db: ${path} does not exist`);
      let db: Database.Database;
      try {
        db = new Database(path, { readonly: true, fileMustExist: true });
      } catch (error) {
        throw new BadInputError(`--db: cannot open ${path}: ${messageOf(error)}`);
      }
      try {
        const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'labels'").get();
        if (!hasTable) throw new BadInputError(`--db: ${path} has no labels table (run the daemon once to migrate it)`);
        const rows = answeredLabels(db);
        const out = resolve(file);
        const tmp = `${out}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(withRecordFeatures(db, labelsFile(rows)), null, 1)}\n`);
        renameSync(tmp, out);
        process.stdout.write(`${rows.length} answered labels → ${out}\n`);
      } finally {
        db.close();
      }
    });
}
