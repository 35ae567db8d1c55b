import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type ModelsConfig, modelsConfigSchema } from '../../models/config.ts';
import { ModelRejectedError } from '../../models/errors.ts';
import type { LoadOutcome, ModelRegistry } from '../../models/registry.ts';
import type { ModelLog } from '../../models/session.ts';
import { readTrustedKey, type TrustedKey } from '../../models/signing.ts';
import { verifyModelDir } from '../../models/verify.ts';
import { type Db, openDatabase } from '../../storage/db.ts';
import { ModelRepository } from '../../storage/models.ts';
import { BadInputError, EXIT_BAD_INPUT, EXIT_OK, messageOf } from '../errors.ts';
import { createLogger } from '../logger.ts';

/** Flags shared by `glance models …` and `glance flash`: where the models, their keys and the database are. */
export interface ModelsFlags {
  config?: string;
  dir?: string;
  trustedKey?: string[];
  db?: string;
}

export interface ModelsContext {
  readonly config: ModelsConfig;
  readonly trustedKeys: TrustedKey[];
  readonly db: Db;
  readonly registry: ModelRegistry;
}

/**
 * The `models` section of a daemon config file (the daemon's own schema carries it as `models`), plus the
 * database location the daemon would use. Only these keys are read, so a config for a newer daemon still works.
 */
function readConfigFile(file: string | undefined): { models: ModelsConfig; db: string } {
  let raw: { models?: unknown; device?: { dataDir?: string }; storage?: { db?: string } } = {};
  if (file !== undefined) {
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as typeof raw;
    } catch (error) {
      throw new BadInputError(`cannot read config ${file}: ${messageOf(error)}`);
    }
  }
  const parsed = modelsConfigSchema.safeParse(raw.models);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `models.${i.path.map(String).join('.')}: ${i.message}`);
    throw new BadInputError(`config ${file ?? '(defaults)'} is invalid:\n  ${problems.join('\n  ')}`);
  }
  const db = raw.storage?.db ?? `${raw.device?.dataDir ?? './data'}/glance.db`;
  return { models: parsed.data, db };
}

export function loadTrustedKeys(files: readonly string[]): TrustedKey[] {
  return files.map((f) => {
    try {
      return readTrustedKey(f);
    } catch (error) {
      throw new BadInputError(`trusted key ${f}: ${messageOf(error)}`);
    }
  });
}

/** Refusals are printed by the commands; the log (stderr) carries the rest, e.g. an execution-provider fallback. */
/** Loads onnxruntime (through the registry) only when a models command runs, not at every CLI start. */
export async function openModelsContext(
  flags: ModelsFlags,
  log: ModelLog = createLogger(process.env.GLANCE_LOG_LEVEL ?? 'warn'),
): Promise<ModelsContext> {
  const file = readConfigFile(flags.config);
  const config: ModelsConfig = {
    ...file.models,
    ...(flags.dir ? { dir: flags.dir } : {}),
    ...(flags.trustedKey && flags.trustedKey.length > 0 ? { trustedKeys: flags.trustedKey } : {}),
  };
  const trustedKeys = loadTrustedKeys(config.trustedKeys);
  const db = openDatabase(resolve(flags.db ?? file.db));
  const { ModelRegistry } = await import('../../models/registry.ts');
  const registry = new ModelRegistry({ config, trustedKeys, store: new ModelRepository(db), log });
  return { config, trustedKeys, db, registry };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

interface ListedModel {
  name: string;
  version: string;
  active: boolean;
  verified: boolean;
  problem?: string;
  keyId?: string;
  metrics?: unknown;
}

/** Every version in the models directory, whether it is active, and whether it verifies (signature, sha256). */
export function listModels(ctx: ModelsContext): ListedModel[] {
  const out: ListedModel[] = [];
  for (const name of ctx.registry.names()) {
    const active = ctx.registry.preferredVersion(name);
    for (const version of ctx.registry.versions(name)) {
      const row: ListedModel = { name, version, active: version === active, verified: false };
      try {
        const v = verifyModelDir(ctx.registry.modelDir(name, version), ctx.trustedKeys);
        Object.assign(row, { verified: true, keyId: v.keyId, metrics: v.manifest.metrics.heldOut });
      } catch (error) {
        row.problem = error instanceof ModelRejectedError ? `${error.stage}: ${error.reason}` : messageOf(error);
      }
      out.push(row);
    }
  }
  return out;
}

function report(outcome: LoadOutcome): number {
  if (outcome.ok) {
    const t = outcome.timings;
    const ms = `verify ${t.verifyMs.toFixed(0)} ms, load ${t.sessionMs.toFixed(0)} ms, warm-up ${t.warmupMs.toFixed(0)} ms`;
    process.stdout.write(`${outcome.model} active${outcome.previous ? ` (was ${outcome.previous})` : ''}; ${ms}\n`);
    return EXIT_OK;
  }
  process.stderr.write(`glance: ${outcome.model} refused at ${outcome.stage}: ${outcome.reason}\n`);
  return EXIT_BAD_INPUT;
}

async function withContext(flags: ModelsFlags, fn: (ctx: ModelsContext) => Promise<number> | number): Promise<void> {
  const ctx = await openModelsContext(flags);
  try {
    process.exitCode = await fn(ctx);
  } finally {
    await ctx.registry.close();
    ctx.db.close();
  }
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'daemon config file: its models section and database location are used')
    .option('--dir <dir>', 'models directory (overrides models.dir)')
    .option('--trusted-key <pem>', 'trusted public key (repeatable; overrides models.trustedKeys)', collect)
    .option('--db <file>', 'device database (default <dataDir>/glance.db)');
}

/** Installs (verify + trial load + copy) a model directory, optionally activating it; shared with `glance flash`. */
export async function installAndMaybeActivate(ctx: ModelsContext, src: string, activate: boolean): Promise<number> {
  try {
    const r = await ctx.registry.install(src);
    process.stdout.write(`${r.model} ${r.alreadyInstalled ? 'already installed' : 'installed'} in ${r.dir}\n`);
    if (!activate) return EXIT_OK;
    const [name = '', version = ''] = r.model.split('@');
    return report(await ctx.registry.activate(name, version));
  } catch (error) {
    if (!(error instanceof ModelRejectedError)) throw error;
    process.stderr.write(`glance: ${error.message}\n`);
    return EXIT_BAD_INPUT;
  }
}

/** `glance models list|install|activate|rollback|history`. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('installed models: list, install, activate, roll back');
  sharedOptions(models.command('list').description('versions in the models directory; * marks the active one'))
    .option('--json', 'print JSON')
    .action((flags: ModelsFlags & { json?: boolean }) =>
      withContext(flags, (ctx) => {
        const rows = listModels(ctx);
        if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const lines = rows.map((r) => [
            r.active ? '*' : ' ',
            `${r.name}@${r.version}`,
            r.verified ? `ok (key ${r.keyId})` : `REFUSED ${r.problem}`,
          ]);
          process.stdout.write(`${rows.length === 0 ? `no models in ${ctx.config.dir}` : table(lines)}\n`);
        }
        return EXIT_OK;
      }),
    );
  sharedOptions(
    models.command('install').description('verify, trial-load and copy a model directory into the models directory'),
  )
    .argument('<src>', 'model directory (model.onnx, manifest.json, golden.json)')
    .option('--activate', 'activate it once installed')
    .action((src: string, flags: ModelsFlags & { activate?: boolean }) =>
      withContext(flags, (ctx) => installAndMaybeActivate(ctx, src, flags.activate ?? false)),
    );
  sharedOptions(models.command('activate').description('serve this version after it passes every check'))
    .argument('<name>')
    .argument('<version>')
    .action((name: string, version: string, flags: ModelsFlags) =>
      withContext(flags, async (ctx) => report(await ctx.registry.activate(name, version))),
    );
  sharedOptions(models.command('rollback').description('return to the version active before the current one'))
    .argument('<name>')
    .action((name: string, flags: ModelsFlags) =>
      withContext(flags, async (ctx) => report(await ctx.registry.rollback(name))),
    );
  sharedOptions(models.command('history').description('installs, activations, rollbacks and refusals'))
    .argument('[name]')
    .action((name: string | undefined, flags: ModelsFlags) =>
      withContext(flags, (ctx) => {
        const rows = ctx.registry
          .history(name)
          .map((e) => [
            new Date(e.atMs).toISOString(),
            e.kind,
            `${e.name}@${e.version}`,
            e.fromVersion ? `from ${e.fromVersion}` : '',
            e.reason ?? '',
          ]);
        process.stdout.write(`${rows.length === 0 ? 'no history' : table(rows)}\n`);
        return EXIT_OK;
      }),
    );
}
