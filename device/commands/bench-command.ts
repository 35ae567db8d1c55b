import type { Command } from 'commander';

/** `glance bench`: measured numbers with their targets, as a table and optionally JSON. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure throughput, latency and memory; print a table and optionally write JSON')
    .option('--only <names>', 'comma-separated groups to run (foundation, eye, models, sync, toolchain)')
    .option('--json <file>', 'write the report as JSON')
    .action(async (opts: { only?: string; json?: string }) => {
      const { benchCommand } = await import('./bench.ts');
      process.exitCode = await benchCommand({ only: opts.only?.split(',').map((s) => s.trim()), json: opts.json });
    });
}
