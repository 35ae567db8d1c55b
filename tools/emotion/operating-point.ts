/**
 * The emotion stage's operating point, measured on validation sessions: replays inference traces (the stage's
 * GLANCE_EMOTION_TRACE output) through the stage's own episode detector, prior re-weighting and minimum duration,
 * for a grid of onset thresholds and minimum durations, and reports
 *   - false records per hour on neutral sessions (wearers with no emotion: every record is false), and
 *   - on sessions with emotion episodes (groundtruth.json `emotion.episodes`): episodes found (a record starts
 *     inside, or up to 0.75 s before) and records whose class is the episode's.
 *
 *   node --import tsx tools/emotion/operating-point.ts --manifest models/zoo/emotion-ship/V/manifest.json \
 *     --neutral t1.jsonl,t2.jsonl [--episodes t3.jsonl=SESSION_DIR,...] [--neutral-prior 0.5]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Manifest } from '../../models/manifest.ts';
import { EpisodeDetector } from '../../pipelines/emotion/episodes.ts';
import { emotionModelIo } from '../../pipelines/emotion/model-io.ts';
import { neutralPriorShares, reweight } from '../../pipelines/emotion/prior.ts';
import type { TraceLine } from '../../pipelines/emotion/trace.ts';

const EARLY_NS = 750_000_000n; // as test/pipelines/emotion/stage.test.ts: a window may cross a little early

interface Setting {
  readonly onset: number;
  readonly minDurationS: number;
}
interface Rec {
  readonly emotion: string;
  readonly onsetTNs: bigint;
  readonly offsetTNs: bigint;
  readonly peak: number;
}
interface GtEpisode {
  emotion: string;
  onsetUs: number;
  offsetUs: number;
}

function readTrace(file: string): TraceLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TraceLine);
}

/** The stage's records for one trace at one setting (offset threshold and minSteps at the config's defaults). */
export function replay(
  lines: readonly TraceLine[],
  labels: readonly string[],
  prior: { trained: readonly number[]; wanted: readonly number[] } | null,
  s: Setting,
  offset = 0.3,
  minSteps = 2,
): Rec[] {
  const neutral = Math.max(0, labels.indexOf('neutral'));
  const det = new EpisodeDetector<null>({ onset: s.onset, offset: Math.min(offset, s.onset), minSteps }, neutral);
  const minNs = BigInt(Math.round(s.minDurationS * 1e9));
  const out: Rec[] = [];
  const keep = (ev: ReturnType<typeof det.push>) => {
    if (ev?.kind !== 'end') return;
    const e = ev.episode;
    if (e.offsetTNs - e.onsetTNs >= minNs)
      out.push({
        emotion: labels[e.emotion] ?? '?',
        onsetTNs: e.onsetTNs,
        offsetTNs: e.offsetTNs,
        peak: e.peak.probability,
      });
  };
  for (const l of lines) {
    const probs = prior ? reweight(l.raw, prior.trained, prior.wanted) : Float32Array.from(l.raw);
    keep(det.push(BigInt(l.tNs), probs, () => null));
  }
  const last = lines.at(-1);
  if (last) keep(det.flush(BigInt(last.tNs)));
  return out;
}

function main(argv: string[]): void {
  const cmd = new Command('operating-point')
    .requiredOption('--manifest <file>', "the emotion model's manifest.json")
    .requiredOption('--neutral <files>', 'comma-separated traces of neutral sessions')
    .option('--episodes <pairs>', 'comma-separated TRACE=SESSION_DIR of sessions with emotion episodes', '')
    .option('--neutral-prior <p>', "the stage's neutralPrior ('null': the model's own)", '0.5')
    .option('--onsets <list>', 'onset thresholds to try', '0.5,0.55,0.6,0.65,0.7,0.75,0.8')
    .option('--durations <list>', 'minimum durations (s) to try', '1,1.5,2,2.5,3')
    .parse(argv);
  const o = cmd.opts<{
    manifest: string;
    neutral: string;
    episodes: string;
    neutralPrior: string;
    onsets: string;
    durations: string;
  }>();
  const io = emotionModelIo(JSON.parse(readFileSync(o.manifest, 'utf8')) as Manifest);
  const np = o.neutralPrior === 'null' ? null : Number(o.neutralPrior);
  const neutralIdx = io.labels.indexOf('neutral');
  const prior =
    np !== null && io.trainingPrior
      ? { trained: io.trainingPrior, wanted: neutralPriorShares(io.labels.length, neutralIdx, np) }
      : null;
  const neutral = o.neutral.split(',').map(readTrace);
  const spanH = (t: readonly TraceLine[]) =>
    t.length > 1 ? Number(BigInt(t[t.length - 1]?.tNs ?? '0') - BigInt(t[0]?.tNs ?? '0')) / 3.6e12 : 0;
  const hours = neutral.reduce((h, t) => h + spanH(t), 0);
  const withEpisodes = o.episodes
    .split(',')
    .filter((p) => p !== '')
    .map((p) => {
      const [trace, dir] = p.split('=') as [string, string];
      const gt = JSON.parse(readFileSync(join(dir, 'groundtruth.json'), 'utf8'));
      return { lines: readTrace(trace), t0: BigInt(gt.t0Ns), episodes: gt.emotion.episodes as GtEpisode[] };
    });
  const rows = [];
  for (const onset of o.onsets.split(',').map(Number))
    for (const minDurationS of o.durations.split(',').map(Number)) {
      const s = { onset, minDurationS };
      const falseRecs = neutral.flatMap((t) => replay(t, io.labels, prior, s));
      let found = 0;
      let total = 0;
      let inside = 0;
      let matching = 0;
      let records = 0;
      for (const w of withEpisodes) {
        const recs = replay(w.lines, io.labels, prior, s);
        records += recs.length;
        const within = (r: Rec, e: GtEpisode) =>
          r.onsetTNs >= w.t0 + BigInt(e.onsetUs) * 1000n - EARLY_NS && r.onsetTNs <= w.t0 + BigInt(e.offsetUs) * 1000n;
        for (const e of w.episodes) {
          total++;
          if (recs.some((r) => within(r, e))) found++;
        }
        for (const r of recs) {
          const e = w.episodes.find((x) => within(r, x));
          if (e) inside++;
          if (e && e.emotion === r.emotion) matching++;
        }
      }
      rows.push({
        onset,
        minDurationS,
        neutralFalseRecords: falseRecs.length,
        neutralHours: Number(hours.toFixed(4)),
        falsePerHour: Number((falseRecs.length / hours).toFixed(1)),
        falsePeaks: falseRecs.map((r) => `${r.emotion}:${r.peak.toFixed(2)}`).join(' '),
        episodesFound: `${found}/${total}`,
        recordsInside: `${inside}/${records}`,
        classMatches: `${matching}/${records}`,
      });
    }
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv);
