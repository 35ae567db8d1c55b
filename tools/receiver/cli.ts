import { parseArgs } from 'node:util';
import pino from 'pino';
import { startReceiver } from './receiver.ts';

/**
 * The reference receiver (the phone's side of sync) on a laptop:
 *   npx tsx tools/receiver/cli.ts --url mqtt://127.0.0.1:1883 --device glance-dev --out ./received \
 *     [--username phone --password secret] [--prefix glance]
 * Runs until SIGINT/SIGTERM, printing its counts to stderr every few seconds and once at the end.
 */
const USAGE = 'usage: cli.ts --url mqtt://HOST:PORT --device ID --out DIR [--username U --password P] [--prefix P]';

function main(): number | undefined {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      options: {
        url: { type: 'string' },
        device: { type: 'string' },
        out: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        prefix: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const { url, device, out } = values;
  if (url === undefined || device === undefined || out === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const logger = pino({ level: process.env.GLANCE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  const receiver = startReceiver({
    url,
    deviceId: device,
    outDir: out,
    logger,
    ...(values.prefix === undefined ? {} : { topicPrefix: values.prefix }),
    ...(values.username === undefined ? {} : { username: values.username }),
    ...(values.password === undefined ? {} : { password: values.password }),
  });
  const report = () => logger.info(receiver.stats(), 'receiver');
  const timer = setInterval(report, 5000);
  const shutdown = () => {
    clearInterval(timer);
    void receiver.stop().then(() => {
      report();
      process.exit(0);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return undefined;
}

const code = main();
if (code !== undefined) process.exitCode = code;
