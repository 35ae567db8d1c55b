import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SourceStatus } from './cameras/source.ts';
import type { StageMetrics } from './metrics.ts';

/** `glance run --summary FILE.json`: the fields DESIGN.md promises, plus what a newcomer wants to see. */
export interface RunSummary {
  readonly sessionId: string;
  readonly source: string;
  readonly wallS: number;
  /** Peak resident memory of the daemon process over the run. */
  readonly maxRssMb: number;
  readonly frames: Record<string, { read: number; processed: number; dropped: number }>;
  readonly fps: Record<string, number>;
  readonly stages: Record<string, ReturnType<StageMetrics['summary']>>;
  /** Figures stages report about themselves (attention: frames scored, episodes; snippets: clips, bytes…). */
  readonly stageStats: Record<string, Record<string, unknown>>;
  readonly records: Record<string, number>;
  readonly errors: { count: number; first: string[] };
  readonly models: string[];
  readonly cameras: SourceStatus[];
  readonly serial?: { linesOk: number; malformed: number; seqGaps: number };
  readonly sync?: { connected: boolean; pendingRecords: number; broker?: { tcp: number; ws: number } | undefined };
  readonly stoppedBy: 'end' | 'signal' | 'error';
}

export function writeSummary(file: string, summary: RunSummary): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`);
  renameSync(tmp, file);
}

/** A few human lines for the terminal (the JSON file is for machines). */
export function formatSummary(s: RunSummary): string {
  const lines = [`session ${s.sessionId} from ${s.source}: ${s.wallS.toFixed(2)} s wall, stopped by ${s.stoppedBy}`];
  for (const [stream, f] of Object.entries(s.frames)) {
    lines.push(
      `  ${stream.padEnd(6)} read ${f.read}, processed ${f.processed}, dropped ${f.dropped}  (${s.fps[stream] ?? 0} fps)`,
    );
  }
  for (const [stage, m] of Object.entries(s.stages)) {
    lines.push(`  stage ${stage.padEnd(10)} n=${m.count} p50=${m.p50Ms} ms p99=${m.p99Ms} ms`);
  }
  for (const [stage, st] of Object.entries(s.stageStats)) {
    lines.push(
      `  ${stage.padEnd(16)} ${Object.entries(st)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ')}`,
    );
  }
  lines.push(
    `  records ${Object.entries(s.records)
      .map(([t, n]) => `${t}=${n}`)
      .join(' ')}`,
  );
  if (s.serial) lines.push(`  serial lines ok ${s.serial.linesOk}, malformed ${s.serial.malformed}`);
  if (s.sync) {
    const where = s.sync.broker
      ? `embedded broker on tcp ${s.sync.broker.tcp} / ws ${s.sync.broker.ws}`
      : 'external broker';
    lines.push(
      `  sync ${s.sync.connected ? 'connected' : 'not connected'} (${where}), ${s.sync.pendingRecords} records waiting for the phone`,
    );
  }
  lines.push(`  errors ${s.errors.count}${s.errors.first.length ? `: ${s.errors.first.join(' | ')}` : ''}`);
  return lines.join('\n');
}
