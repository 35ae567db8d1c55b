import { z } from 'zod';

/**
 * The `faces` section of the daemon's config. Off by default: face memory is something a wearer turns on, and a
 * session without faces should cost nothing it does not need to.
 */
export const facesConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('detect, track, embed and cluster faces in the scene stream'),
  cascade: z
    .string()
    .min(1)
    .default('/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml')
    .describe("OpenCV cascade file (Debian's opencv-data: haarcascades/ or lbpcascades/)"),
  detectEveryN: z
    .number()
    .int()
    .min(1)
    .max(30)
    .default(3)
    .describe('run the detector on every Nth scene frame; tracks are only updated on those frames'),
  detectWidth: z
    .number()
    .int()
    .min(80)
    .max(1920)
    .default(360)
    .describe('scene frames are downscaled to this width for detection (px)'),
  minSize: z.number().int().min(12).max(1000).default(40).describe('smallest face side in scene pixels'),
  minNeighbors: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(4)
    .describe("cascade's minNeighbors (higher: fewer false faces)"),
  maxMissed: z
    .number()
    .int()
    .min(0)
    .max(60)
    .default(4)
    .describe('detector runs a track may miss (occlusion, a failed detection) before it ends'),
  minIou: z.number().min(0).max(1).default(0.2).describe('least box overlap for a detection to continue a track'),
  minAppearance: z
    .number()
    .min(-1)
    .max(1)
    .default(0.3)
    .describe('least correlation of 16x16 grey thumbnails for a detection to continue a track'),
  minBlur: z
    .number()
    .min(0)
    .max(10_000)
    .default(20)
    .describe('least variance of the Laplacian of a 64x64 crop; blurrier crops are not kept'),
  minSymmetry: z
    .number()
    .min(-1)
    .max(1)
    .default(0.2)
    .describe('least left-right mirror correlation of a crop (a frontal-pose proxy); profiles score low'),
  minTrackFrames: z.number().int().min(1).max(256).default(4).describe('kept crops a track needs to be stored'),
  maxCropsPerTrack: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(16)
    .describe('crops kept per track (the sharpest), also the embedding model sequence length'),
  model: z.string().default('face-track').describe('the track-embedding model in the registry'),
  clusterThreshold: z
    .number()
    .min(0)
    .max(4)
    .optional()
    .describe("cosine distance that joins a track to a person (default: the model manifest's tuned threshold)"),
  blurSnippets: z
    .boolean()
    .default(true)
    .describe('blur the faces of people not enrolled in snippets before they are sent to the phone'),
});

export type FacesConfig = z.infer<typeof facesConfigSchema>;
