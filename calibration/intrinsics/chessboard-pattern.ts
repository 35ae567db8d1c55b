export interface ChessboardPattern {
  /** Inner corners per row and per column (OpenCV's patternSize), e.g. 9×6. */
  readonly cols: number;
  readonly rows: number;
  /** Side of one square, mm: sets the unit of the extrinsics only; intrinsics and RMS do not depend on it. */
  readonly squareMm: number;
}

/** Parses `9x6` into a pattern; null when malformed. */
export function parsePattern(text: string, squareMm = 1): ChessboardPattern | null {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (m === null) return null;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  if (cols < 2 || rows < 2 || cols > 100 || rows > 100) return null;
  return { cols, rows, squareMm };
}
