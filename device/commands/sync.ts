import type { Command } from 'commander';
import { openDatabase } from '../../storage/db.ts';
import { Outbox } from '../../storage/outbox.ts';
import { TransferRepository } from '../../storage/transfers.ts';

/** `glance sync status`: what is still on its way to the phone, read from the device database. */
export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('the phone link')
    .command('status')
    .description('records and snippet files not yet confirmed by the phone')
    .option('--db <file>', 'SQLite database file', 'data/glance.db')
    .option('--json', 'print JSON')
    .action((opts: { db: string; json?: boolean }) => {
      const db = openDatabase(opts.db);
      try {
        const report = {
          pendingRecords: new Outbox(db).pendingCount(),
          awaitingReceipt: db.prepare('SELECT COUNT(*) FROM outbox_undelivered').pluck().get() as number,
          transfers: new TransferRepository(db).counts(),
        };
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(report, null, 2)}\n`
            : `records waiting to be sent: ${report.pendingRecords}\n` +
                `records sent, awaiting the phone's receipt: ${report.awaitingReceipt}\n` +
                `snippet transfers: ${Object.entries(report.transfers)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')}\n`,
        );
      } finally {
        db.close();
      }
    });
}
