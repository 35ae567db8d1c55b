import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { eyeTrackingConfigSchema } from '../calibration/config.ts';
import { modelsConfigSchema } from '../models/config.ts';
import { attentionConfigSchema } from '../pipelines/attention/config.ts';
import { emotionConfigSchema } from '../pipelines/emotion/config.ts';
import { facesConfigSchema } from '../pipelines/faces/config.ts';
import { labelsConfigSchema } from '../pipelines/labels/config.ts';
import { segmentationConfigSchema } from '../pipelines/segmentation/config.ts';
import { snippetsConfigSchema } from '../pipelines/snippets/config.ts';
import { syncConfigSchema } from '../sync/config.ts';
import { BadInputError, messageOf } from './errors.ts';

/**
 * The daemon's configuration: one strict schema per section, every field described and bounded, unknown keys
 * rejected (a typo in a wearer's config must fail loudly at start, not be silently ignored).
 */

const cameraSchema = z.strictObject({
  uri: z
    .union([z.string().min(1), z.number().int().min(0)])
    .describe('device index, /dev/videoN, a video file, or a GStreamer pipeline / RTSP URL'),
  width: z.number().int().min(16).max(8192).optional().describe('requested capture width (px)'),
  height: z.number().int().min(16).max(8192).optional().describe('requested capture height (px)'),
  fps: z.number().min(1).max(1000).optional().describe('requested capture rate (frames/s)'),
});

const replaySourceSchema = z.strictObject({
  type: z.literal('replay'),
  session: z.string().min(1).describe('recorded session directory (DESIGN.md "Session format")'),
  pace: z.enum(['realtime', 'fast']).default('fast').describe('replay at capture speed or as fast as possible'),
});

const liveSourceSchema = z.strictObject({
  type: z.literal('live'),
  cameras: z
    .strictObject({ eye0: cameraSchema.optional(), eye1: cameraSchema.optional(), scene: cameraSchema.optional() })
    .refine((c) => Object.keys(c).length > 0, 'at least one camera is needed'),
  record: z.string().min(1).optional().describe('record the live streams into this session directory'),
  retry: z
    .strictObject({
      initialMs: z.number().int().min(10).max(60_000).default(200),
      maxMs: z.number().int().min(10).max(600_000).default(10_000),
    })
    .default({ initialMs: 200, maxMs: 10_000 })
    .describe('backoff when a camera stops delivering'),
});

const serialSchema = z.strictObject({
  port: z.string().min(1).describe('serial device of the frame microcontroller, e.g. /dev/ttyACM0'),
  baudRate: z.number().int().min(1200).max(4_000_000).default(115_200),
});

export const configSchema = z.strictObject({
  device: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (it is an MQTT topic level)')
        .default('glance-dev'),
      dataDir: z.string().min(1).default('./data').describe('where the database and snippets live'),
    })
    .default({ id: 'glance-dev', dataDir: './data' }),
  source: z
    .discriminatedUnion('type', [replaySourceSchema, liveSourceSchema])
    .default({ type: 'replay', session: 'sample/session', pace: 'fast' }),
  serial: serialSchema.optional().describe('live serial peripherals; a replayed session uses its serial.log'),
  storage: z
    .strictObject({
      db: z.string().min(1).optional().describe('SQLite file (default: <dataDir>/glance.db)'),
      batchSize: z.number().int().min(1).max(100_000).default(512).describe('rows per write transaction'),
    })
    .default({ batchSize: 512 }),
  pipeline: z
    .strictObject({
      pairingMaxSkewMs: z
        .number()
        .min(0.1)
        .max(1000)
        .default(20)
        .describe('an eye frame further than this from a scene frame is not paired with it'),
      queueDepth: z.number().int().min(1).max(256).default(8).describe('frames buffered per live stream'),
    })
    .default({ pairingMaxSkewMs: 20, queueDepth: 8 }),
  models: modelsConfigSchema.describe('the model registry: directory, trusted signing keys, execution providers'),
  eyeTracking: eyeTrackingConfigSchema.prefault({}).describe('pupil detection, gaze mapping, fixations and blinks'),
  segmentation: segmentationConfigSchema
    .prefault({})
    .describe('scene segmentation (per-pixel classes) with the zoo model, under a run/scale policy'),
  attention: attentionConfigSchema.describe('MemX attention (TVA) on the scene stream: what the wearer attends to'),
  snippets: snippetsConfigSchema.describe('compact clips of attended moments, pre/post capture, disk budget'),
  emotion: emotionConfigSchema.prefault({}).describe("EMOShip: the wearer's emotion episodes and what caused them"),
  faces: facesConfigSchema
    .prefault({})
    .describe('face tracks, the people they belong to, and face blurring in snippets'),
  sync: z
    .union([z.literal(false), syncConfigSchema])
    .prefault({})
    .describe('the link to the phone (MQTT); false turns it off'),
  labels: labelsConfigSchema
    .prefault({})
    .describe('active learning: ask the wearer to label the records the models are least sure about'),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
});

export type Config = z.infer<typeof configSchema>;
export type SourceConfig = Config['source'];
export type CameraConfig = z.infer<typeof cameraSchema>;

export function parseConfig(raw: unknown, origin = 'config'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys : [];
    const base = issue.path.map(String).join('.');
    const where = keys.length > 0 ? keys.map((k) => (base ? `${base}.${k}` : String(k))).join(', ') : base || '(root)';
    return `${where}: ${issue.message}`;
  });
  throw new BadInputError(`${origin} is invalid:\n  ${problems.join('\n  ')}`);
}

export function defaultDbFile(config: Config): string {
  return resolve(config.storage.db ?? `${config.device.dataDir}/glance.db`);
}

export function loadConfig(file: string | undefined): Config {
  if (file === undefined) return parseConfig({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BadInputError(`cannot read config ${file}: ${messageOf(error)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new BadInputError(`config ${file} is not valid YAML: ${messageOf(error)}`);
  }
  return parseConfig(raw, `config ${file}`);
}
