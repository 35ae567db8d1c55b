import type { Command } from 'commander';
import { installAndMaybeActivate, type ModelsFlags, openModelsContext } from './models.ts';

/**
 * `glance flash MODEL_DIR`: put a signed model on a device and make it the one that serves — install (verify,
 * trial load, copy) then activate, recorded in the device's database. Point --dir/--db (or --config) at the
 * device's data directory, e.g. the glasses' storage mounted over USB; over the air it arrives through sync/.
 */
export function registerFlashCommand(program: Command): void {
  program
    .command('flash')
    .description('install a signed model on a device and activate it (a refused model changes nothing)')
    .argument('<src>', 'model directory (model.onnx, manifest.json, golden.json), signed')
    .option('--config <file>', "the device's config file: its models section and database location are used")
    .option('--dir <dir>', "the device's models directory")
    .option('--trusted-key <pem>', 'trusted public key (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--db <file>', "the device's database")
    .action(async (src: string, flags: ModelsFlags) => {
      const ctx = await openModelsContext(flags);
      try {
        process.exitCode = await installAndMaybeActivate(ctx, src, true);
      } finally {
        await ctx.registry.close();
        ctx.db.close();
      }
    });
}
