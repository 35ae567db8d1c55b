import { z } from 'zod';

/**
 * The JSON payloads on the wire, each with its version in `v` (sync/README.md documents them). Everything that
 * comes in is parsed with these at the edge; what goes out is built to match them. A new version is a new schema
 * beside the old one, so a phone on the old one keeps working until both sides have moved.
 */

const count = z.number().int().min(0);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits');
const topicLevel = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** events/<kind>: one outbox record. `seq` is the outbox id (what receipts name); `recordId` is what to de-duplicate on. */
export const eventV1 = z.strictObject({
  v: z.literal(1),
  seq: z.number().int().min(1),
  kind: topicLevel,
  recordId: z.string().min(1),
  createdMs: count,
  data: z.unknown(),
});
export type EventV1 = z.infer<typeof eventV1>;

/** phone/receipts: the records the phone has stored (by `seq`), so the device stops sending them. */
export const receiptsV1 = z.strictObject({
  v: z.literal(1),
  seqs: z.array(z.number().int().min(1)).min(1).max(1000),
});
export type ReceiptsV1 = z.infer<typeof receiptsV1>;

/** phone/presence (retained; the phone's last will says offline). Sending waits for a phone to be online. */
export const presenceV1 = z.strictObject({
  v: z.literal(1),
  online: z.boolean(),
  clientId: z.string().max(128).optional(),
});
export type PresenceV1 = z.infer<typeof presenceV1>;

/** What the daemon reports about itself (a `StatusProvider` returns it). */
export const deviceStatusV1 = z.strictObject({
  capture: z.enum(['running', 'paused', 'calibrating', 'stopped']),
  battery: z.strictObject({ percent: z.number().min(0).max(100), charging: z.boolean() }).optional(),
  storage: z.strictObject({ freeBytes: count, usedBytes: count }).optional(),
  /** Model name → version in use. */
  models: z.record(z.string(), z.string()),
});
export type DeviceStatus = z.infer<typeof deviceStatusV1>;

/** status (retained). The last will is `{ v: 1, online: false }`. */
export const statusV1 = z.strictObject({
  v: z.literal(1),
  online: z.boolean(),
  atMs: count.optional(),
  device: deviceStatusV1.optional(),
  sync: z.strictObject({ pendingRecords: count, openTransfers: count }).optional(),
});
export type StatusV1 = z.infer<typeof statusV1>;

/** snippets/<transferId>/manifest: sent before the chunks, and again whenever the sender goes back to the last ack. */
export const manifestV1 = z.strictObject({
  v: z.literal(1),
  transferId: topicLevel,
  kind: z.string().min(1),
  recordId: z.string().min(1),
  /** The file's base name on the device, for the phone to name its copy. */
  name: z.string().min(1).max(255),
  size: count,
  sha256,
  chunkBytes: z.number().int().min(1),
  chunks: count,
});
export type ManifestV1 = z.infer<typeof manifestV1>;

/**
 * snippets/<transferId>/ack, from the phone: it holds chunks [0, next) and lacks `missing` (indices ≥ next it has
 * noticed gaps at). Once it holds every chunk it adds the sha256 it computed over the whole file.
 */
export const snippetAckV1 = z.strictObject({
  v: z.literal(1),
  next: count,
  missing: z.array(count).max(1024).default([]),
  sha256: sha256.optional(),
});
export type SnippetAckV1 = z.infer<typeof snippetAckV1>;
export type SnippetAckV1Input = z.input<typeof snippetAckV1>;

/** The files of a model bundle sent over the air, in the order they are concatenated. */
export const OTA_FILES = ['manifest.json', 'model.onnx', 'golden.json'] as const;
export type OtaFileName = (typeof OTA_FILES)[number];

/**
 * models/ota/<otaId>/manifest, from the flasher: a model directory as one byte stream (its files concatenated in
 * `files` order) cut into `chunks` chunks of `chunkBytes`. `model` is what the flasher read from manifest.json; the
 * device checks it against the file it receives, and the registry checks everything else (signature, sha256s).
 */
export const otaManifestV1 = z
  .strictObject({
    v: z.literal(1),
    otaId: topicLevel,
    model: z.strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
      version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/),
    }),
    files: z
      .array(z.strictObject({ name: z.enum(OTA_FILES), size: count, sha256 }))
      .min(2)
      .max(OTA_FILES.length),
    size: z.number().int().min(1),
    sha256,
    chunkBytes: z
      .number()
      .int()
      .min(1024)
      .max(8 * 2 ** 20),
    chunks: z.number().int().min(1),
  })
  .superRefine((m, ctx) => {
    const names = m.files.map((f) => f.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'a file is listed twice' });
    if (!names.includes('manifest.json') || !names.includes('model.onnx')) {
      ctx.addIssue({ code: 'custom', message: 'manifest.json and model.onnx are required' });
    }
    if (m.files.reduce((sum, f) => sum + f.size, 0) !== m.size) {
      ctx.addIssue({ code: 'custom', message: 'size is not the sum of the file sizes' });
    }
    if (Math.ceil(m.size / m.chunkBytes) !== m.chunks) {
      ctx.addIssue({ code: 'custom', message: 'chunks does not match size and chunkBytes' });
    }
  });
export type OtaManifestV1 = z.infer<typeof otaManifestV1>;

/**
 * models/ota/<otaId>/result, from the device, once the bundle is complete and the registry has decided (sent again
 * whenever the flasher sends that bundle's manifest): the model now serving, or the stage that refused it and why,
 * with what still serves.
 */
export const otaResultV1 = z.discriminatedUnion('ok', [
  z.strictObject({
    v: z.literal(1),
    otaId: topicLevel,
    ok: z.literal(true),
    model: z.string().min(1),
    previous: z.string().min(1).optional(),
  }),
  z.strictObject({
    v: z.literal(1),
    otaId: topicLevel,
    ok: z.literal(false),
    stage: z.string().min(1),
    reason: z.string().min(1),
    serving: z.string().min(1).optional(),
  }),
]);
export type OtaResultV1 = z.infer<typeof otaResultV1>;
