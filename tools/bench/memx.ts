import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT } from '../../device/paths.ts';
import type { RunSummary } from '../../device/summary.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
const SAMPLE = join(ROOT, 'sample/session');
const SCENE_FPS = 30;

interface Truth {
  t0Ns: number;
  events: { attention: { startUs: number; endUs: number }[] };
}

/**
 * MemX on the sample, as the daemon runs it: attention (TVA) and snippets on, eye tracking feeding gaze, fast
 * replay. Reports the pipeline's sustained rates and latency, what snippets cost and weigh, how often TVA ran,
 * how far the snippets' ends fall from the true episodes' pre/post window, and TVA's held-out accuracy against
 * eye tracking alone from its manifest.
 */
export function benchMemx(): Metric[] {
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-memx-'));
  try {
    const pre = 2;
    const post = 2;
    const config = {
      attention: { enabled: true },
      snippets: { enabled: true, preSeconds: pre, postSeconds: post },
      device: { dataDir: dir },
    };
    writeFileSync(join(dir, 'glance.json'), JSON.stringify(config));
    const summaryFile = join(dir, 'summary.json');
    execFileSync(
      join(ROOT, 'bin/glance'),
      [
        'run',
        '--config',
        join(dir, 'glance.json'),
        '--replay',
        SAMPLE,
        '--once',
        '--no-sync',
        '--summary',
        summaryFile,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, GLANCE_LOG_LEVEL: 'warn' } },
    );
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;
    const figure = (stage: string, key: string) => {
      const v = s.stageStats[stage]?.[key];
      return typeof v === 'number' ? v : 0;
    };
    const snippets = {
      frames: figure('snippets', 'frames'),
      bytes: figure('snippets', 'bytes'),
      encodeMs: figure('snippets', 'encodeMs'),
    };
    const attention = { runShare: figure('attention', 'runShare') };
    const videoS = (snippets.frames ?? 0) / SCENE_FPS;
    const sessionMin = (s.frames.scene?.processed ?? 0) / SCENE_FPS / 60;
    const metrics: Metric[] = [
      {
        name: 'memx.scene_fps',
        value: s.fps.scene ?? 0,
        unit: 'fps',
        better: 'higher',
        target: 60,
        note: 'sustained, fast replay; 60 = 30 fps real time with 2× headroom',
      },
      { name: 'memx.eye_fps', value: (s.fps.eye0 ?? 0) + (s.fps.eye1 ?? 0), unit: 'fps', better: 'higher' },
      { name: 'memx.frame_p99_ms', value: s.stages.frame?.p99Ms ?? 0, unit: 'ms', better: 'lower' },
      { name: 'attention.p50_ms', value: s.stages.attention?.p50Ms ?? 0, unit: 'ms', better: 'lower' },
      { name: 'attention.run_share', value: attention.runShare ?? 0, unit: 'ratio', better: 'lower' },
      {
        name: 'snippets.encode_ms_per_video_s',
        value: videoS > 0 ? round((snippets.encodeMs ?? 0) / videoS) : 0,
        unit: 'ms/s',
        better: 'lower',
      },
      {
        name: 'snippets.mb_per_video_min',
        value: videoS > 0 ? round((snippets.bytes ?? 0) / 1e6 / (videoS / 60)) : 0,
        unit: 'MB/min',
        better: 'lower',
      },
      {
        name: 'snippets.mb_per_capture_min',
        value: sessionMin > 0 ? round((snippets.bytes ?? 0) / 1e6 / sessionMin) : 0,
        unit: 'MB/min',
        better: 'lower',
      },
      { name: 'memx.rss_mb', value: s.maxRssMb, unit: 'MB', better: 'lower' },
    ];
    const boundary = boundaryErrorFrames(join(dir, 'glance.db'), s.sessionId, pre, post);
    if (boundary !== null) {
      metrics.push({
        name: 'snippets.boundary_error_frames',
        value: boundary,
        unit: 'frames',
        better: 'lower',
        note: 'median |snippet start/end − true episode ∓ pre/post|, TVA-driven',
      });
    }
    metrics.push(...manifestMetrics());
    return metrics;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How far the snippets' edges lie from where they would be with perfect attention: the true episodes turned into
 * clips by the recorder's own rules (pre/post-capture, a moment starting within the previous clip's post-capture
 * extends it, a frame belongs to one clip only), matched to the recorded clips by overlap. Median over both edges.
 */
function boundaryErrorFrames(dbFile: string, sessionId: string, pre: number, post: number): number | null {
  const truth = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')) as Truth;
  const db = new Database(dbFile, { readonly: true });
  const rows = db
    .prepare('SELECT start_t_ns AS s, end_t_ns AS e FROM snippets WHERE session_id = ? ORDER BY start_t_ns')
    .safeIntegers(true)
    .all(sessionId) as { s: bigint; e: bigint }[];
  db.close();
  if (rows.length === 0) return null;
  const t0 = BigInt(truth.t0Ns);
  const clips = rows.map((r) => [Number(r.s - t0) / 1e9, Number(r.e - t0) / 1e9] as const);
  const lastFrame = Math.max(...clips.map(([, e]) => e));
  const ideal: [number, number][] = [];
  let momentEnd = Number.NEGATIVE_INFINITY;
  for (const a of truth.events.attention) {
    const s = a.startUs / 1e6;
    const e = a.endUs / 1e6;
    const open = ideal.at(-1);
    if (open && s <= momentEnd + post) {
      momentEnd = e;
      open[1] = Math.min(lastFrame, e + post);
    } else {
      ideal.push([Math.max(s - pre, open ? open[1] : Number.NEGATIVE_INFINITY, 0), Math.min(lastFrame, e + post)]);
      momentEnd = e;
    }
  }
  const errors: number[] = [];
  for (const [s, e] of clips) {
    let best: [number, number] | undefined;
    let bestOverlap = 0;
    for (const [is, ie] of ideal) {
      const overlap = Math.min(e, ie) - Math.max(s, is);
      if (overlap > bestOverlap) [best, bestOverlap] = [[is, ie], overlap];
    }
    if (best) errors.push(Math.abs(s - best[0]) * SCENE_FPS, Math.abs(e - best[1]) * SCENE_FPS);
  }
  errors.sort((a, b) => a - b);
  return errors.length === 0 ? null : round(errors[Math.floor(errors.length / 2)] as number);
}

/** TVA against eye tracking alone on held-out data, as its exporter measured and signed it into the manifest. */
function manifestMetrics(): Metric[] {
  const file = join(ROOT, 'models/zoo/tva/1.0.0/manifest.json');
  const all = (JSON.parse(readFileSync(file, 'utf8')) as { metrics: Record<string, unknown> }).metrics;
  const m = (all.heldOut ?? all) as Record<string, unknown>;
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : undefined);
  const out: Metric[] = [];
  const hit = num('tva_hit_rate');
  const eyeHit = num('eye_only_hit_rate');
  if (hit !== undefined && eyeHit !== undefined) {
    out.push({
      name: 'attention.tva_hit_rate',
      value: hit,
      unit: 'ratio',
      better: 'higher',
      baseline: { name: 'attention.eye_only_hit_rate', value: eyeHit },
      note: 'held-out synthetic sessions (manifest)',
    });
  }
  const iou = num('tva_iou');
  const eyeIou = num('eye_only_iou');
  if (iou !== undefined && eyeIou !== undefined) {
    out.push({
      name: 'attention.tva_iou',
      value: iou,
      unit: 'ratio',
      better: 'higher',
      baseline: { name: 'attention.eye_only_iou', value: eyeIou },
    });
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
