import type { Config } from '../config.ts';
import { Daemon } from '../daemon.ts';
import { EXIT_OK, EXIT_RUNTIME } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { formatSummary, writeSummary } from '../summary.ts';

export interface RunOptions {
  readonly config: Config;
  readonly dbFile: string;
  readonly once: boolean;
  readonly summaryFile: string | undefined;
}

/**
 * `glance run`: start the daemon, stop it cleanly on SIGINT/SIGTERM (the database is flushed and closed, the
 * session row records its end), and report. A runtime error that escapes is an exit 1; bad input an exit 2.
 */
export async function runCommand(options: RunOptions): Promise<number> {
  const logger = createLogger(options.config.log.level);
  const daemon = new Daemon({ config: options.config, dbFile: options.dbFile, logger });
  try {
    await daemon.start();
  } catch (error) {
    await daemon.abort();
    throw error;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping');
    daemon.requestStop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await daemon.run();
    if (options.summaryFile) writeSummary(options.summaryFile, summary);
    process.stdout.write(`${formatSummary(summary)}\n`);
    return summary.errors.count > 0 && summary.stoppedBy === 'end' && totalProcessed(summary) === 0
      ? EXIT_RUNTIME
      : EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function totalProcessed(summary: { frames: Record<string, { processed: number }> }): number {
  return Object.values(summary.frames).reduce((n, f) => n + f.processed, 0);
}
