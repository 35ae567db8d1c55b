import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { BadInputError } from '../errors.ts';

/**
 * `glance db inspect|export`: a look into the device database without the sqlite3 shell (which a device may not
 * have). Opened read-only, so inspecting a running daemon's database never blocks or changes it.
 */
export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('inspect or export the device database');
  db.command('inspect')
    .description('schema version and row counts per table')
    .option('--db <file>', 'SQLite database file', 'data/glance.db')
    .option('--json', 'print JSON')
    .action((opts: { db: string; json?: boolean }) => {
      const sqlite = openReadOnly(opts.db);
      const report = inspect(sqlite);
      sqlite.close();
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : `schema version ${report.schemaVersion}\n${Object.entries(report.tables)
              .map(([t, n]) => `  ${t.padEnd(20)} ${n}`)
              .join('\n')}\n`,
      );
    });
  db.command('export')
    .description('write one table as JSON lines (stdout or --out)')
    .requiredOption('--table <name>', 'table to export')
    .option('--db <file>', 'SQLite database file', 'data/glance.db')
    .option('--out <file>', 'output file (default stdout)')
    .action(async (opts: { db: string; table: string; out?: string }) => {
      const sqlite = openReadOnly(opts.db);
      const tables = Object.keys(inspect(sqlite).tables);
      if (!tables.includes(opts.table)) {
        sqlite.close();
        throw new BadInputError(`--table: no table ${opts.table} (tables: ${tables.join(', ')})`);
      }
      const out: NodeJS.WritableStream = opts.out ? createWriteStream(opts.out) : process.stdout;
      // Identifiers cannot be bound as parameters; the name was checked against the schema above.
      for (const row of sqlite.prepare(`SELECT * FROM "${opts.table}"`).safeIntegers(true).iterate()) {
        if (!out.write(`${JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`)) {
          await new Promise<void>((r) => out.once('drain', () => r()));
        }
      }
      sqlite.close();
      if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    });
}

function openReadOnly(file: string): Database.Database {
  const path = resolve(file);
  if (!existsSync(path)) throw new BadInputError(`--db: ${path} does not exist`);
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new BadInputError(`--db: cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function inspect(sqlite: Database.Database): { schemaVersion: number; tables: Record<string, number> } {
  const names = sqlite
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const tables: Record<string, number> = {};
  for (const name of names) tables[name] = sqlite.prepare(`SELECT COUNT(*) FROM "${name}"`).pluck().get() as number;
  const schemaVersion = names.includes('schema_version')
    ? ((sqlite.prepare('SELECT MAX(version) FROM schema_version').pluck().get() as number | null) ?? 0)
    : 0;
  return { schemaVersion, tables };
}
