import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BundleError } from '../../sync/ota/bundle.ts';
import { flashOverMqtt } from '../../sync/ota/flasher.ts';
import { BadInputError, EXIT_BAD_INPUT, EXIT_OK, messageOf } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { installAndMaybeActivate, type ModelsFlags, openModelsContext } from './models.ts';

interface FlashFlags extends ModelsFlags {
  broker?: string;
  deviceId?: string;
  username?: string;
  password?: string;
  ca?: string;
  chunkSize?: string;
  topicPrefix?: string;
  timeout?: string;
}

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BadInputError(`${flag} must be an integer in [${min}, ${max}]`);
  return n;
}

/**
 * Over the air: sends the model to the device through its MQTT broker in checksummed chunks and prints the
 * device's answer. The device installs it through its registry (signature against its own trusted keys) or
 * refuses it; either way its serving model is never left half-replaced.
 */
async function flashOverTheAir(src: string, flags: FlashFlags): Promise<number> {
  const url = flags.broker as string;
  if (!/^(mqtts?|wss?):\/\/\S+$/.test(url))
    throw new BadInputError(`--broker ${url}: an mqtt://, mqtts://, ws:// or wss:// URL`);
  if (flags.deviceId === undefined || !DEVICE_ID.test(flags.deviceId)) {
    throw new BadInputError(
      '--device-id is required with --broker: letters, digits, _ and - (the device’s topic level)',
    );
  }
  let ca: Buffer | undefined;
  if (flags.ca !== undefined) {
    try {
      ca = readFileSync(flags.ca);
    } catch (error) {
      throw new BadInputError(`--ca ${flags.ca}: ${messageOf(error)}`);
    }
  }
  const chunkBytes = integer('--chunk-size', flags.chunkSize, 1024, 8 * 2 ** 20);
  const timeoutS = integer('--timeout', flags.timeout, 1, 86_400);
  try {
    const report = await flashOverMqtt(src, {
      url,
      deviceId: flags.deviceId,
      ...(flags.topicPrefix === undefined ? {} : { topicPrefix: flags.topicPrefix }),
      ...(flags.username === undefined ? {} : { username: flags.username }),
      ...(flags.password === undefined ? {} : { password: flags.password }),
      ...(ca === undefined ? {} : { ca }),
      ...(chunkBytes === undefined ? {} : { chunkBytes }),
      ...(timeoutS === undefined ? {} : { timeoutMs: timeoutS * 1000 }),
      logger: createLogger(process.env.GLANCE_LOG_LEVEL ?? 'warn'),
    });
    const s = report.stats;
    const how =
      `${report.chunks} chunks (${(report.bytes / 2 ** 20).toFixed(2)} MiB), ${s.chunksResent} resent, ` +
      `${s.connects} connection${s.connects === 1 ? '' : 's'}, ${s.seconds.toFixed(1)} s`;
    const r = report.result;
    if (r.ok) {
      process.stdout.write(
        `${r.model} active on ${flags.deviceId}${r.previous ? ` (was ${r.previous})` : ''}; ${how}\n`,
      );
      return EXIT_OK;
    }
    const serving = r.serving ? `; ${r.serving} still serving` : '';
    process.stderr.write(`glance: ${report.model} refused by ${flags.deviceId} at ${r.stage}: ${r.reason}${serving}\n`);
    return EXIT_BAD_INPUT;
  } catch (error) {
    if (error instanceof BundleError) throw new BadInputError(error.message);
    throw error;
  }
}

/**
 * `glance flash MODEL_DIR`: put a signed model on a device and make it the one that serves. With --broker it goes
 * over the air (MQTT, chunked and checksummed, resumable); without, into a device's data directory directly
 * (--dir/--db or --config, e.g. the glasses' storage mounted over USB): install (verify, trial load, copy) then
 * activate, recorded in the device's database.
 */
export function registerFlashCommand(program: Command): void {
  program
    .command('flash')
    .description('install a signed model on a device and activate it (a refused model changes nothing)')
    .argument('<src>', 'model directory (model.onnx, manifest.json, golden.json), signed')
    .option('--broker <url>', "over the air: the device's MQTT broker (mqtt://HOST:PORT)")
    .option('--device-id <id>', 'over the air: the device id (its topic level)')
    .option('--username <name>', 'over the air: broker account (a flasher account on the embedded broker)')
    .option('--password <secret>', 'over the air: broker password')
    .option('--ca <pem>', 'over the air: CA certificate for mqtts:// or wss://')
    .option('--chunk-size <bytes>', 'over the air: bytes per chunk (default 65536)')
    .option('--topic-prefix <prefix>', 'over the air: first topic level (default glance)')
    .option('--timeout <seconds>', 'over the air: give up after this long without the device’s answer (default 300)')
    .option('--config <file>', "local: the device's config file: its models section and database location are used")
    .option('--dir <dir>', "local: the device's models directory")
    .option('--trusted-key <pem>', 'local: trusted public key (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--db <file>', "local: the device's database")
    .action(async (src: string, flags: FlashFlags) => {
      if (flags.broker !== undefined) {
        process.exitCode = await flashOverTheAir(src, flags);
        return;
      }
      const ctx = await openModelsContext(flags);
      try {
        process.exitCode = await installAndMaybeActivate(ctx, src, true);
      } finally {
        await ctx.registry.close();
        ctx.db.close();
      }
    });
}
