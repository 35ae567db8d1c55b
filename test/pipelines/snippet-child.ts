// Run as a child process by snippets-crash.test.ts: records the sample's snippets until it is killed.
import { recordSample } from './snippet-harness.ts';

const [dataDir, dbFile] = process.argv.slice(2) as [string, string];
for (;;) {
  const { db } = await recordSample({ dataDir, dbFile, settings: { maxSeconds: 1.5 } });
  db.close();
  process.stdout.write('pass\n');
}
